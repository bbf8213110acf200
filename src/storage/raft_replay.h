// Rebuilding one Raft group's stable state from its WAL records, in LSN order. Pure (no I/O),
// so recovery's edge cases are tested without files.
//
// The records may start anywhere: segments before the first kept one were released, so the
// first Entries record can begin above index 1. What matters is that the final log is whole:
// it must continue the latest snapshot without a gap.
#pragma once

#include <memory>
#include <vector>

#include "base/status.h"
#include "raft/storage.h"
#include "raft/types.h"
#include "storage/raft_codec.h"

namespace synod::storage {

class GroupReplay {
 public:
  void OnHardState(const raft::HardState& hs) { hard_state_ = hs; }
  // Appends, replacing any stored suffix from the first entry's index (ready.h contract).
  // kCorruption if they leave a gap after the entries replayed so far.
  Status OnEntries(std::vector<raft::Entry> entries);
  // kCorruption if a compaction snapshot disagrees with the log about its entry's term.
  Status OnSnapshot(SnapshotMode mode, const raft::Snapshot& snap);

  const raft::Snapshot& snapshot() const { return snapshot_; }
  // The recovered state as the node's Storage. kCorruption if the log does not continue the
  // snapshot or the commit index is past the log's end.
  Result<std::unique_ptr<raft::MemoryStorage>> Build() const;

 private:
  raft::LogIndex LastIndex() const { return first_ + ents_.size() - 1; }
  void DropThrough(raft::LogIndex index);  // drops entries at or below index

  raft::HardState hard_state_;
  raft::Snapshot snapshot_;
  raft::LogIndex first_;          // index of ents_[0] when ents_ is not empty
  std::vector<raft::Entry> ents_;  // consecutive indexes
};

}  // namespace synod::storage
