#include "raft/log.h"

#include <algorithm>

#include "base/assert.h"

namespace synod::raft {

RaftLog::RaftLog(Storage* storage, uint64_t apply_bytes_max)
    : storage_(storage), apply_bytes_max_(apply_bytes_max) {
  SYNOD_ASSERT(storage_ != nullptr, "RaftLog needs a storage");
  unstable_offset_ = storage_->LastIndex() + 1;
  // The snapshot's entries are committed and applied by definition.
  committed_ = storage_->FirstIndex() - 1;
  applied_ = committed_;
  applying_ = committed_;
}

LogIndex RaftLog::FirstIndex() const {
  if (unstable_snapshot_) return unstable_snapshot_->metadata.index + 1;
  return storage_->FirstIndex();
}

LogIndex RaftLog::LastIndex() const {
  if (!unstable_.empty()) return unstable_.back().index;
  if (unstable_snapshot_) return unstable_snapshot_->metadata.index;
  return storage_->LastIndex();
}

Term RaftLog::LastTerm() const {
  auto t = TermOf(LastIndex());
  SYNOD_ASSERT(t.has_value(), "term of the last index must be known");
  return *t;
}

std::optional<Term> RaftLog::UnstableTerm(LogIndex i) const {
  if (i >= unstable_offset_) {
    const uint64_t k = i.value - unstable_offset_.value;
    if (k < unstable_.size()) return unstable_[k].term;
    return std::nullopt;
  }
  if (unstable_snapshot_ && unstable_snapshot_->metadata.index == i) {
    return unstable_snapshot_->metadata.term;
  }
  return std::nullopt;
}

std::optional<Term> RaftLog::TermOf(LogIndex i) const {
  const LogIndex dummy = FirstIndex() - 1;
  if (i < dummy || i > LastIndex()) return std::nullopt;
  if (auto t = UnstableTerm(i)) return t;
  if (unstable_snapshot_) return std::nullopt;  // below a pending snapshot: gone
  auto r = storage_->TermOf(i);
  if (!r.ok()) return std::nullopt;
  return r.value();
}

bool RaftLog::MatchTerm(LogIndex i, Term t) const {
  auto term = TermOf(i);
  return term.has_value() && *term == t;
}

bool RaftLog::IsUpToDate(LogIndex last_index, Term last_term) const {
  const Term our = LastTerm();
  return last_term > our || (last_term == our && last_index >= LastIndex());
}

std::optional<LogIndex> RaftLog::MaybeAppend(LogIndex index, Term log_term, LogIndex leader_commit,
                                             const std::vector<Entry>& entries) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  const LogIndex last_new = index + entries.size();
  // Find the first entry that is new or conflicts; entries before it are already ours and
  // must not be truncated (a delayed, shorter append must not erase newer entries).
  size_t k = 0;
  for (; k < entries.size(); ++k) {
    if (!MatchTerm(entries[k].index, entries[k].term)) break;
  }
  if (k < entries.size()) {
    SYNOD_ASSERT(entries[k].index > committed_, "a conflicting entry is already committed");
    TruncateAndAppend(std::vector<Entry>(entries.begin() + static_cast<ptrdiff_t>(k),
                                         entries.end()));
  }
  CommitTo(std::min(leader_commit, last_new));
  return last_new;
}

LogIndex RaftLog::Append(std::vector<Entry> entries) {
  if (entries.empty()) return LastIndex();
  SYNOD_ASSERT(entries.front().index == LastIndex() + 1, "leader append must be contiguous");
  TruncateAndAppend(std::move(entries));
  return LastIndex();
}

void RaftLog::TruncateAndAppend(std::vector<Entry> entries) {
  const LogIndex after = entries.front().index;
  SYNOD_ASSERT(after > committed_, "truncating committed entries");
  if (after == unstable_offset_ + unstable_.size()) {
    // Common case: contiguous with the unstable tail.
    if (unstable_.empty()) {
      unstable_ = std::move(entries);
    } else {
      unstable_.insert(unstable_.end(), std::make_move_iterator(entries.begin()),
                       std::make_move_iterator(entries.end()));
    }
  } else if (after <= unstable_offset_) {
    // Replaces everything unstable, and part of the stable log will be overwritten on persist.
    unstable_offset_ = after;
    unstable_ = std::move(entries);
  } else {
    unstable_.resize(after.value - unstable_offset_.value);
    unstable_.insert(unstable_.end(), std::make_move_iterator(entries.begin()),
                     std::make_move_iterator(entries.end()));
  }
}

std::pair<LogIndex, Term> RaftLog::FindConflictByTerm(LogIndex index, Term term) const {
  for (;;) {
    auto t = TermOf(index);
    if (!t.has_value()) return {index, Term(0)};
    if (*t <= term) return {index, *t};
    if (index == LogIndex(0)) return {index, *t};
    index = index - 1;
  }
}

bool RaftLog::MaybeCommit(LogIndex index, Term term, bool require_term) {
  if (index <= committed_) return false;
  if (require_term && TermOf(index) != term) return false;
  CommitTo(index);
  return true;
}

void RaftLog::CommitTo(LogIndex index) {
  if (index <= committed_) return;
  SYNOD_ASSERT(index <= LastIndex(), "commit index past the end of the log");
  committed_ = index;
}

void RaftLog::AppliedTo(LogIndex index) {
  if (index == LogIndex(0)) return;
  SYNOD_ASSERT(index <= committed_ && index >= applied_, "applied index out of range");
  applied_ = index;
  applying_ = std::max(applying_, index);
}

Result<std::vector<Entry>> RaftLog::Slice(LogIndex lo, LogIndex hi, uint64_t bytes_max) const {
  if (lo < FirstIndex()) return Status(ErrorCode::kCompacted, "slice below the first index");
  if (hi > LastIndex() + 1) return Status(ErrorCode::kUnavailable, "slice past the end");
  std::vector<Entry> out;
  if (lo >= hi) return out;
  uint64_t bytes = 0;
  if (lo < unstable_offset_) {
    auto stored = storage_->Entries(lo, std::min(hi, unstable_offset_), bytes_max);
    if (!stored.ok()) return stored.status();
    out = std::move(stored.value());
    for (const Entry& e : out) bytes += e.ByteSize();
    // Storage stopped early on the byte limit: so do we.
    if (out.empty() || out.back().index + 1 < std::min(hi, unstable_offset_)) return out;
  }
  for (LogIndex i = std::max(lo, unstable_offset_); i < hi; ++i) {
    const Entry& e = unstable_[i.value - unstable_offset_.value];
    bytes += e.ByteSize();
    if (!out.empty() && bytes > bytes_max) break;
    out.push_back(e);
  }
  return out;
}

void RaftLog::StableTo(LogIndex i, Term t) {
  // Only if the entry is still the one that was handed out: a new leader may have replaced it.
  if (i < unstable_offset_ || !UnstableTerm(i).has_value() || *UnstableTerm(i) != t) return;
  const size_t n = i.value - unstable_offset_.value + 1;
  unstable_.erase(unstable_.begin(), unstable_.begin() + static_cast<ptrdiff_t>(n));
  unstable_offset_ = i + 1;
}

void RaftLog::StableSnapTo(LogIndex i) {
  if (unstable_snapshot_ && unstable_snapshot_->metadata.index == i) unstable_snapshot_.reset();
}

bool RaftLog::HasNextCommittedEntries() const {
  return committed_ > applying_ && applying_ + 1 >= FirstIndex();
}

std::vector<Entry> RaftLog::NextCommittedEntries() {
  if (!HasNextCommittedEntries()) return {};
  auto r = Slice(applying_ + 1, committed_ + 1, apply_bytes_max_);
  SYNOD_ASSERT(r.ok(), "committed entries must be readable");
  if (!r.value().empty()) applying_ = r.value().back().index;
  return std::move(r.value());
}

Result<Snapshot> RaftLog::GetSnapshot() const {
  if (unstable_snapshot_) return *unstable_snapshot_;
  Snapshot s = storage_->GetSnapshot();
  if (s.IsEmpty()) return Status(ErrorCode::kUnavailable, "no snapshot yet");
  return s;
}

void RaftLog::Restore(const Snapshot& snap) {
  SYNOD_ASSERT(snap.metadata.index > committed_, "restoring an older snapshot");
  committed_ = snap.metadata.index;
  // The state machine jumps to the snapshot: nothing before it is applied piecemeal.
  applying_ = snap.metadata.index;
  unstable_.clear();
  unstable_offset_ = snap.metadata.index + 1;
  unstable_snapshot_ = snap;
}

}  // namespace synod::raft
