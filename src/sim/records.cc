#include "sim/records.h"

#include "sim/codec.h"

namespace synod::sim {
namespace {

using raft::NodeId;

void PutIds(ByteWriter& w, const std::vector<NodeId>& ids) {
  w.PutU32(static_cast<uint32_t>(ids.size()));
  for (NodeId id : ids) w.PutU64(id.value);
}

bool GetIds(ByteReader& r, std::vector<NodeId>* ids) {
  uint32_t n = 0;
  if (!r.GetU32(&n) || n > 1024) return false;
  ids->clear();
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    if (!r.GetU64(&v)) return false;
    ids->push_back(NodeId(v));
  }
  return true;
}

void PutConfState(ByteWriter& w, const raft::ConfState& cs) {
  PutIds(w, cs.voters);
  PutIds(w, cs.learners);
  PutIds(w, cs.voters_outgoing);
  PutIds(w, cs.learners_next);
  w.PutU8(cs.auto_leave ? 1 : 0);
}

bool GetConfState(ByteReader& r, raft::ConfState* cs) {
  uint8_t auto_leave = 0;
  if (!GetIds(r, &cs->voters) || !GetIds(r, &cs->learners) || !GetIds(r, &cs->voters_outgoing) ||
      !GetIds(r, &cs->learners_next) || !r.GetU8(&auto_leave)) {
    return false;
  }
  cs->auto_leave = auto_leave != 0;
  return true;
}

}  // namespace

std::string EncodeHardState(const raft::HardState& hs) {
  ByteWriter w;
  w.PutU64(hs.term.value);
  w.PutU64(hs.vote.value);
  w.PutU64(hs.commit.value);
  return w.Take();
}

std::optional<raft::HardState> DecodeHardState(std::string_view bytes) {
  ByteReader r(bytes);
  raft::HardState hs;
  if (!r.GetU64(&hs.term.value) || !r.GetU64(&hs.vote.value) || !r.GetU64(&hs.commit.value) ||
      !r.done()) {
    return std::nullopt;
  }
  return hs;
}

std::string EncodeEntries(const std::vector<raft::Entry>& entries) {
  ByteWriter w;
  w.PutU32(static_cast<uint32_t>(entries.size()));
  for (const raft::Entry& e : entries) {
    w.PutU64(e.term.value);
    w.PutU64(e.index.value);
    w.PutU8(static_cast<uint8_t>(e.type));
    w.PutBytes(e.data.view());
  }
  return w.Take();
}

std::optional<std::vector<raft::Entry>> DecodeEntries(std::string_view bytes) {
  ByteReader r(bytes);
  uint32_t n = 0;
  if (!r.GetU32(&n)) return std::nullopt;
  std::vector<raft::Entry> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    raft::Entry e;
    uint8_t type = 0;
    std::string data;
    if (!r.GetU64(&e.term.value) || !r.GetU64(&e.index.value) || !r.GetU8(&type) ||
        !r.GetBytes(&data) || type > 1) {
      return std::nullopt;
    }
    e.type = static_cast<raft::EntryType>(type);
    e.data = raft::Payload(std::move(data));
    // Entries of one record are consecutive (Raft hands them out that way).
    if (!out.empty() && e.index != out.back().index + 1) return std::nullopt;
    out.push_back(std::move(e));
  }
  if (!r.done()) return std::nullopt;
  return out;
}

std::string EncodeSnapshot(const raft::Snapshot& snap) {
  ByteWriter w;
  w.PutU64(snap.metadata.index.value);
  w.PutU64(snap.metadata.term.value);
  PutConfState(w, snap.metadata.conf_state);
  w.PutBytes(snap.data.view());
  return w.Take();
}

std::optional<raft::Snapshot> DecodeSnapshot(std::string_view bytes) {
  ByteReader r(bytes);
  raft::Snapshot snap;
  std::string data;
  if (!r.GetU64(&snap.metadata.index.value) || !r.GetU64(&snap.metadata.term.value) ||
      !GetConfState(r, &snap.metadata.conf_state) || !r.GetBytes(&data) || !r.done()) {
    return std::nullopt;
  }
  snap.data = raft::Payload(std::move(data));
  return snap;
}

}  // namespace synod::sim
