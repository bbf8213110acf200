#include "raft/progress.h"

#include <algorithm>

#include "base/assert.h"

namespace synod::raft {

void Inflights::Add(LogIndex last) {
  SYNOD_ASSERT(!Full(), "adding to a full inflight window");
  buf_[(start_ + count_) % buf_.size()] = last;
  ++count_;
}

void Inflights::FreeLE(LogIndex to) {
  while (count_ > 0 && buf_[start_] <= to) {
    start_ = (start_ + 1) % static_cast<uint32_t>(buf_.size());
    --count_;
  }
  if (count_ == 0) start_ = 0;
}

void Inflights::FreeFirstOne() {
  if (count_ == 0) return;
  start_ = (start_ + 1) % static_cast<uint32_t>(buf_.size());
  --count_;
}

void Progress::BecomeProbe() {
  // After a snapshot, resume right after it; otherwise right after what we know matches.
  if (state == ProgressState::kSnapshot) {
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = ProgressState::kProbe;
  pending_snapshot = LogIndex(0);
  probe_sent = false;
  inflights.Reset();
}

void Progress::BecomeReplicate() {
  state = ProgressState::kReplicate;
  next = match + 1;
  pending_snapshot = LogIndex(0);
  probe_sent = false;
  inflights.Reset();
}

void Progress::BecomeSnapshot(LogIndex snapshot_index) {
  state = ProgressState::kSnapshot;
  pending_snapshot = snapshot_index;
  probe_sent = false;
  inflights.Reset();
}

bool Progress::MaybeUpdate(LogIndex n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::MaybeDecrTo(LogIndex rejected, LogIndex match_hint) {
  if (state == ProgressState::kReplicate) {
    // Rejections at or below match are from before the follower caught up: stale.
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // In probe state only the rejection of the probe actually in flight counts.
  if (next - 1 != rejected) return false;
  next = std::max(std::min(rejected, match_hint + 1), match + 1);
  if (next < LogIndex(1)) next = LogIndex(1);
  probe_sent = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case ProgressState::kProbe: return probe_sent;
    case ProgressState::kReplicate: return inflights.Full();
    case ProgressState::kSnapshot: return true;
  }
  return true;
}

ConfState TrackerConfig::ToConfState() const {
  ConfState cs;
  cs.voters = voters.incoming.ids();
  cs.voters_outgoing = voters.outgoing.ids();
  cs.learners = learners;
  cs.learners_next = learners_next;
  cs.auto_leave = auto_leave;
  return cs;
}

bool TrackerConfig::IsLearner(NodeId id) const {
  // learners_next are still voters of the outgoing half until the joint config is left.
  return std::binary_search(learners.begin(), learners.end(), id);
}

}  // namespace synod::raft
