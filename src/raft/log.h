// RaftLog: the node's view of its log, the stable part (read through Storage) followed by the
// unstable part (entries and possibly a snapshot that were accepted but not yet persisted).
//
//   storage:  [snapshot][first ........ last stable]
//   unstable:                                      [offset ........ last]
//
// Invariants: applied <= committed <= last index; unstable.offset == last stable index + 1,
// or the unstable snapshot's index + 1 when one is pending.
#pragma once

#include <optional>
#include <vector>

#include "raft/storage.h"
#include "raft/types.h"

namespace synod::raft {

class RaftLog {
 public:
  RaftLog(Storage* storage, uint64_t apply_bytes_max);

  LogIndex FirstIndex() const;
  LogIndex LastIndex() const;
  Term LastTerm() const;
  // Term of entry i; nullopt when it is compacted or past the end.
  std::optional<Term> TermOf(LogIndex i) const;
  bool MatchTerm(LogIndex i, Term t) const;
  // Raft §5.4.1: a log ending in (term, index) is at least as up-to-date as ours.
  bool IsUpToDate(LogIndex last_index, Term last_term) const;

  // Follower side of AppendEntries (Raft §5.3): if our entry at `index` has `log_term`, append
  // `entries` (truncating only at the first conflict), advance commit, and return the index of
  // the last entry the message covered. nullopt: the consistency check failed.
  std::optional<LogIndex> MaybeAppend(LogIndex index, Term log_term, LogIndex leader_commit,
                                      const std::vector<Entry>& entries);
  // Leader side: append entries at the end. Returns the new last index.
  LogIndex Append(std::vector<Entry> entries);
  // The largest index <= index whose term is <= term, with that term (§5.3 optimisation as
  // refined in the thesis: jumps over whole terms when the leader backs up).
  std::pair<LogIndex, Term> FindConflictByTerm(LogIndex index, Term term) const;

  // Commits up to `index` if it is in `term` (Raft §5.4.2: only entries of the leader's own
  // term are committed by counting replicas). `require_term` false is the injected bug.
  bool MaybeCommit(LogIndex index, Term term, bool require_term = true);
  void CommitTo(LogIndex index);
  void AppliedTo(LogIndex index);
  LogIndex committed() const { return committed_; }
  LogIndex applied() const { return applied_; }
  // Entries handed out for apply but whose Advance has not come back.
  LogIndex applying() const { return applying_; }

  // Entries in [lo, hi), up to bytes_max (at least one). Errors: kCompacted, kUnavailable.
  Result<std::vector<Entry>> Slice(LogIndex lo, LogIndex hi, uint64_t bytes_max) const;

  // Unstable part, handed to the caller to persist.
  const std::vector<Entry>& UnstableEntries() const { return unstable_; }
  const std::optional<Snapshot>& UnstableSnapshot() const { return unstable_snapshot_; }
  LogIndex LastStableIndex() const { return unstable_offset_ - 1; }
  // The caller persisted entries up to (i, t) / the snapshot at i.
  void StableTo(LogIndex i, Term t);
  void StableSnapTo(LogIndex i);

  // Committed entries not yet handed out for apply, bounded by apply_bytes_max.
  bool HasNextCommittedEntries() const;
  std::vector<Entry> NextCommittedEntries();  // marks them as applying

  // The most recent snapshot (unstable first), for sending to lagging followers.
  Result<Snapshot> GetSnapshot() const;
  // Replaces the whole log with a snapshot received from the leader (Raft §7).
  void Restore(const Snapshot& snap);

 private:
  void TruncateAndAppend(std::vector<Entry> entries);
  std::optional<Term> UnstableTerm(LogIndex i) const;

  Storage* storage_;
  uint64_t apply_bytes_max_;
  std::vector<Entry> unstable_;
  std::optional<Snapshot> unstable_snapshot_;
  LogIndex unstable_offset_;
  LogIndex committed_;
  LogIndex applied_;
  LogIndex applying_;
};

}  // namespace synod::raft
