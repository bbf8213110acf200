#include "storage/raft_codec.h"

#include "storage/coding.h"

namespace synod::storage {
namespace {

// Cap on node ids in one membership list, so a damaged count cannot make decoding allocate.
constexpr uint64_t kNodesMax = 1 << 16;

Status Malformed(const char* what) {
  return Status(ErrorCode::kCorruption, std::string("wal: malformed ") + what + " record");
}

void PutNodes(std::string* out, const std::vector<raft::NodeId>& nodes) {
  PutVarint(out, nodes.size());
  for (raft::NodeId n : nodes) PutVarint(out, n.value);
}

bool GetNodes(Reader* r, std::vector<raft::NodeId>* nodes) {
  uint64_t n = 0;
  if (!r->GetVarint(&n) || n > kNodesMax || n > r->remaining()) return false;
  nodes->resize(n);
  for (raft::NodeId& id : *nodes) {
    if (!r->GetVarint(&id.value)) return false;
  }
  return true;
}

}  // namespace

std::string EncodeHardState(raft::GroupId group, const raft::HardState& hs) {
  std::string out;
  PutVarint(&out, group.value);
  PutVarint(&out, hs.term.value);
  PutVarint(&out, hs.vote.value);
  PutVarint(&out, hs.commit.value);
  return out;
}

std::string EncodeEntries(raft::GroupId group, std::span<const raft::Entry> entries) {
  SYNOD_ASSERT(!entries.empty(), "an entries record holds at least one entry");
  size_t bytes = 3 * 10;
  for (const raft::Entry& e : entries) bytes += e.data.size() + kEntryOverheadBytesMax;
  std::string out;
  out.reserve(bytes);
  PutVarint(&out, group.value);
  PutVarint(&out, entries.front().index.value);
  PutVarint(&out, entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const raft::Entry& e = entries[i];
    SYNOD_ASSERT(e.index == entries.front().index + i, "entries of a record must be consecutive");
    PutVarint(&out, e.term.value);
    out.push_back(static_cast<char>(e.type));
    PutBytes(&out, e.data.view());
  }
  return out;
}

std::string EncodeSnapshot(raft::GroupId group, SnapshotMode mode, const raft::Snapshot& snap) {
  const raft::SnapshotMetadata& m = snap.metadata;
  std::string out;
  out.reserve(snap.data.size() + 64);
  PutVarint(&out, group.value);
  out.push_back(static_cast<char>(mode));
  PutVarint(&out, m.index.value);
  PutVarint(&out, m.term.value);
  PutNodes(&out, m.conf_state.voters);
  PutNodes(&out, m.conf_state.learners);
  PutNodes(&out, m.conf_state.voters_outgoing);
  PutNodes(&out, m.conf_state.learners_next);
  out.push_back(m.conf_state.auto_leave ? 1 : 0);
  PutBytes(&out, snap.data.view());
  return out;
}

Result<HardStateRecord> DecodeHardState(std::string_view payload) {
  Reader r(payload);
  HardStateRecord rec;
  r.GetVarint(&rec.group.value);
  r.GetVarint(&rec.hard_state.term.value);
  r.GetVarint(&rec.hard_state.vote.value);
  r.GetVarint(&rec.hard_state.commit.value);
  if (!r.done()) return Malformed("hard state");
  return rec;
}

Result<EntriesRecord> DecodeEntries(std::string_view payload) {
  Reader r(payload);
  EntriesRecord rec;
  uint64_t first = 0;
  uint64_t count = 0;
  r.GetVarint(&rec.group.value);
  r.GetVarint(&first);
  // Every entry takes at least three bytes, which bounds a believable count.
  if (!r.GetVarint(&count) || count == 0 || count > r.remaining() / 3) {
    return Malformed("entries");
  }
  rec.entries.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    raft::Entry& e = rec.entries[i];
    e.index = raft::LogIndex(first + i);
    uint8_t type = 0;
    std::string_view data;
    r.GetVarint(&e.term.value);
    r.GetByte(&type);
    if (!r.GetBytes(&data) || type > static_cast<uint8_t>(raft::EntryType::kConfChange)) {
      return Malformed("entries");
    }
    e.type = static_cast<raft::EntryType>(type);
    if (!data.empty()) e.data = raft::Payload(std::string(data));
  }
  if (!r.done()) return Malformed("entries");
  return rec;
}

Result<SnapshotRecord> DecodeSnapshot(std::string_view payload) {
  Reader r(payload);
  SnapshotRecord rec;
  raft::SnapshotMetadata& m = rec.snapshot.metadata;
  uint8_t mode = 0;
  uint8_t auto_leave = 0;
  std::string_view data;
  r.GetVarint(&rec.group.value);
  r.GetByte(&mode);
  r.GetVarint(&m.index.value);
  r.GetVarint(&m.term.value);
  if (!GetNodes(&r, &m.conf_state.voters) || !GetNodes(&r, &m.conf_state.learners) ||
      !GetNodes(&r, &m.conf_state.voters_outgoing) ||
      !GetNodes(&r, &m.conf_state.learners_next)) {
    return Malformed("snapshot");
  }
  r.GetByte(&auto_leave);
  r.GetBytes(&data);
  if (!r.done() || mode > static_cast<uint8_t>(SnapshotMode::kCompacted) || auto_leave > 1) {
    return Malformed("snapshot");
  }
  rec.mode = static_cast<SnapshotMode>(mode);
  m.conf_state.auto_leave = auto_leave == 1;
  if (!data.empty()) rec.snapshot.data = raft::Payload(std::string(data));
  return rec;
}

}  // namespace synod::storage
