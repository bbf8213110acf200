#include "storage/raft_replay.h"

#include <string>

namespace synod::storage {
namespace {

std::string Str(raft::LogIndex i) { return std::to_string(i.value); }

}  // namespace

Status GroupReplay::OnEntries(std::vector<raft::Entry> entries) {
  SYNOD_ASSERT(!entries.empty(), "an entries record holds at least one entry");
  const raft::LogIndex first = entries.front().index;
  if (ents_.empty() || first < first_) {
    ents_ = std::move(entries);
    first_ = first;
  } else if (first > LastIndex() + 1) {
    return Status(ErrorCode::kCorruption, "wal: entries from " + Str(first) +
                                              " leave a gap after " + Str(LastIndex()));
  } else {
    ents_.resize(first.value - first_.value);
    ents_.insert(ents_.end(), std::make_move_iterator(entries.begin()),
                 std::make_move_iterator(entries.end()));
  }
  DropThrough(snapshot_.metadata.index);
  return Status::Ok();
}

Status GroupReplay::OnSnapshot(SnapshotMode mode, const raft::Snapshot& snap) {
  // An older snapshot changes nothing, as in MemoryStorage::ApplySnapshot.
  if (snap.metadata.index <= snapshot_.metadata.index) return Status::Ok();
  if (mode == SnapshotMode::kInstalled) {
    ents_.clear();
  } else if (!ents_.empty() && snap.metadata.index >= first_ &&
             snap.metadata.index <= LastIndex() &&
             ents_[snap.metadata.index.value - first_.value].term != snap.metadata.term) {
    return Status(ErrorCode::kCorruption, "wal: snapshot at " + Str(snap.metadata.index) +
                                              " disagrees with the log about its term");
  }
  snapshot_ = snap;
  DropThrough(snap.metadata.index);
  return Status::Ok();
}

void GroupReplay::DropThrough(raft::LogIndex index) {
  if (ents_.empty() || index < first_) return;
  if (index >= LastIndex()) {
    ents_.clear();
    return;
  }
  const auto dropped = static_cast<ptrdiff_t>(index.value - first_.value + 1);
  ents_.erase(ents_.begin(), ents_.begin() + dropped);
  first_ = index + 1;
}

Result<std::unique_ptr<raft::MemoryStorage>> GroupReplay::Build() const {
  auto storage = std::make_unique<raft::MemoryStorage>();
  const raft::LogIndex snap_index = snapshot_.metadata.index;
  if (!snapshot_.IsEmpty()) {
    const bool applied = storage->ApplySnapshot(snapshot_);
    SYNOD_ASSERT(applied, "a fresh MemoryStorage takes any non-empty snapshot");
  }
  if (!ents_.empty()) {
    if (first_ != snap_index + 1) {
      return Status(ErrorCode::kCorruption, "wal: the log starts at " + Str(first_) +
                                                " but the snapshot ends at " + Str(snap_index));
    }
    storage->Append(ents_);
  }
  if (hard_state_.commit > storage->LastIndex()) {
    return Status(ErrorCode::kCorruption, "wal: commit index " + Str(hard_state_.commit) +
                                              " is past the last entry " +
                                              Str(storage->LastIndex()));
  }
  storage->SetHardState(hard_state_);
  return storage;
}

}  // namespace synod::storage
