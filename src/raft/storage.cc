#include "raft/storage.h"

#include <algorithm>

namespace synod::raft {

MemoryStorage::MemoryStorage() { ents_.push_back(Entry{}); }

InitialState MemoryStorage::GetInitialState() const {
  return InitialState{hard_state_, snapshot_.metadata.conf_state};
}

LogIndex MemoryStorage::FirstIndex() const { return ents_[0].index + 1; }
LogIndex MemoryStorage::LastIndex() const { return ents_[0].index + (ents_.size() - 1); }
Snapshot MemoryStorage::GetSnapshot() const { return snapshot_; }

Result<Term> MemoryStorage::TermOf(LogIndex i) const {
  const LogIndex offset = ents_[0].index;
  if (i < offset) return Status(ErrorCode::kCompacted, "term of a compacted index");
  if (i.value - offset.value >= ents_.size()) {
    return Status(ErrorCode::kUnavailable, "term of an index past the end of the log");
  }
  return ents_[i.value - offset.value].term;
}

Result<std::vector<Entry>> MemoryStorage::Entries(LogIndex lo, LogIndex hi,
                                                  uint64_t bytes_max) const {
  const LogIndex offset = ents_[0].index;
  if (lo <= offset) return Status(ErrorCode::kCompacted, "entries below the snapshot");
  if (hi > LastIndex() + 1) return Status(ErrorCode::kUnavailable, "entries past the end");
  SYNOD_ASSERT(lo <= hi, "Entries with lo > hi");
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (LogIndex i = lo; i < hi; ++i) {
    const Entry& e = ents_[i.value - offset.value];
    bytes += e.ByteSize();
    if (!out.empty() && bytes > bytes_max) break;  // always at least one entry
    out.push_back(e);
  }
  return out;
}

void MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  const LogIndex first = FirstIndex();
  size_t skip = 0;
  while (skip < entries.size() && entries[skip].index < first) ++skip;  // already compacted
  if (skip == entries.size()) return;
  const LogIndex start = entries[skip].index;
  SYNOD_ASSERT(start <= LastIndex() + 1, "MemoryStorage::Append would leave a gap");
  ents_.resize(start.value - ents_[0].index.value);  // drop the conflicting suffix
  ents_.insert(ents_.end(), entries.begin() + static_cast<ptrdiff_t>(skip), entries.end());
}

bool MemoryStorage::ApplySnapshot(const Snapshot& snap) {
  if (snap.metadata.index <= snapshot_.metadata.index) return false;
  snapshot_ = snap;
  ents_.clear();
  ents_.push_back(Entry{snap.metadata.term, snap.metadata.index, EntryType::kNormal, {}});
  return true;
}

Status MemoryStorage::CreateSnapshot(LogIndex i, const ConfState& cs, Payload data) {
  if (i <= snapshot_.metadata.index || i < ents_[0].index) {
    return Status(ErrorCode::kCompacted, "snapshot is older than the compacted log");
  }
  if (i > LastIndex()) return Status(ErrorCode::kInvalidArgument, "snapshot past the log's end");
  snapshot_.metadata.index = i;
  snapshot_.metadata.term = ents_[i.value - ents_[0].index.value].term;
  snapshot_.metadata.conf_state = cs;
  snapshot_.data = std::move(data);
  return Status::Ok();
}

Status MemoryStorage::Compact(LogIndex i) {
  const LogIndex offset = ents_[0].index;
  if (i <= offset) return Status(ErrorCode::kCompacted, "already compacted");
  if (i > LastIndex()) return Status(ErrorCode::kInvalidArgument, "compaction past the log's end");
  const size_t n = i.value - offset.value;
  Entry dummy{ents_[n].term, ents_[n].index, EntryType::kNormal, {}};
  ents_.erase(ents_.begin(), ents_.begin() + static_cast<ptrdiff_t>(n));
  ents_[0] = std::move(dummy);
  return Status::Ok();
}

}  // namespace synod::raft
