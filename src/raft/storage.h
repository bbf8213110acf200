// Storage: the read-only view of the stable Raft log that the core reads. The caller owns all
// writes: it persists what Ready hands it and then makes it visible here (Append, SetHardState,
// ApplySnapshot). MemoryStorage is the implementation for tests and the simulator, and the
// in-memory tail the server keeps over its write-ahead log.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "raft/types.h"

namespace synod::raft {

struct InitialState {
  HardState hard_state;
  ConfState conf_state;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual InitialState GetInitialState() const = 0;
  // Entries in [lo, hi), at least one if any exist, then up to bytes_max in total.
  // kCompacted when lo is at or below the snapshot index; kUnavailable when hi is past the end.
  virtual Result<std::vector<Entry>> Entries(LogIndex lo, LogIndex hi, uint64_t bytes_max) const = 0;
  // Term of entry i; valid for the snapshot index itself and for [FirstIndex, LastIndex].
  virtual Result<Term> TermOf(LogIndex i) const = 0;
  virtual LogIndex FirstIndex() const = 0;  // snapshot index + 1
  virtual LogIndex LastIndex() const = 0;   // snapshot index if the log is empty
  virtual Snapshot GetSnapshot() const = 0;
};

class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  InitialState GetInitialState() const override;
  Result<std::vector<Entry>> Entries(LogIndex lo, LogIndex hi, uint64_t bytes_max) const override;
  Result<Term> TermOf(LogIndex i) const override;
  LogIndex FirstIndex() const override;
  LogIndex LastIndex() const override;
  Snapshot GetSnapshot() const override;

  void SetHardState(const HardState& hs) { hard_state_ = hs; }
  const HardState& hard_state() const { return hard_state_; }
  // Appends entries, truncating any existing suffix they conflict with. Entries at or below
  // the snapshot index are ignored. REQUIRES: no gap after the current last index.
  void Append(const std::vector<Entry>& entries);
  // Replaces the whole log with a snapshot. Returns false if the snapshot is older than ours.
  bool ApplySnapshot(const Snapshot& snap);
  // Records a snapshot of the state machine at applied index i (i <= last index) so lagging
  // followers can be sent it, and keeps the log as it is.
  Status CreateSnapshot(LogIndex i, const ConfState& cs, Payload data);
  // Drops entries up to and including i. REQUIRES: i <= last index.
  Status Compact(LogIndex i);

 private:
  // ents_[0] is a dummy entry holding the snapshot's index and term.
  std::vector<Entry> ents_;
  HardState hard_state_;
  Snapshot snapshot_;
};

}  // namespace synod::raft
