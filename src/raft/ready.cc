// Handing work to the caller (Ready) and taking note of what it did (Advance).
#include <algorithm>

#include "base/assert.h"
#include "raft/raft.h"

namespace synod::raft {

HardState Raft::ReportedHardState() const {
  HardState hs{term_, vote_, log_.committed()};
  // Injected bug: the vote never reaches stable storage, so a restarted node can vote twice
  // in one term.
  if (cfg_.bugs.vote_before_persist) hs.vote = kNoNode;
  return hs;
}

bool Raft::HasReady() const {
  if (ready_outstanding_) return false;
  if (SoftState{lead_, role_} != prev_soft_) return true;
  if (ReportedHardState() != prev_hard_) return true;
  if (!log_.UnstableEntries().empty() || log_.UnstableSnapshot().has_value()) return true;
  if (!msgs_.empty() || !read_states_.empty()) return true;
  if (log_.HasNextCommittedEntries()) return true;
  return role_ == Role::kLeader && (bcast_entries_ || bcast_commit_ || round_needed_);
}

Ready Raft::GetReady() {
  SYNOD_ASSERT(!ready_outstanding_, "GetReady called again before Advance");
  FlushBroadcasts();
  Ready rd;
  handed_ = Handed{};
  const SoftState ss{lead_, role_};
  if (ss != prev_soft_) rd.soft_state = handed_.soft_state = ss;
  const HardState hs = ReportedHardState();
  if (hs != prev_hard_) {
    rd.hard_state = handed_.hard_state = hs;
    rd.must_sync = hs.term != prev_hard_.term || hs.vote != prev_hard_.vote;
  }
  if (log_.UnstableSnapshot()) {
    rd.snapshot = *log_.UnstableSnapshot();
    handed_.snapshot_index = rd.snapshot->metadata.index;
    rd.must_sync = true;
  }
  rd.entries = log_.UnstableEntries();
  if (!rd.entries.empty()) {
    handed_.last_entry = {rd.entries.back().index, rd.entries.back().term};
    rd.must_sync = true;
  }
  rd.committed_entries = log_.NextCommittedEntries();
  if (!rd.committed_entries.empty()) {
    handed_.last_committed = rd.committed_entries.back().index;
    for (const Entry& e : rd.committed_entries) handed_.committed_bytes += e.data.size();
  }
  rd.messages = std::move(msgs_);
  msgs_.clear();
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  ready_outstanding_ = true;
  return rd;
}

void Raft::Advance() {
  SYNOD_ASSERT(ready_outstanding_, "Advance without GetReady");
  ready_outstanding_ = false;
  if (handed_.hard_state) prev_hard_ = *handed_.hard_state;
  if (handed_.soft_state) prev_soft_ = *handed_.soft_state;
  if (handed_.snapshot_index) {
    log_.StableSnapTo(*handed_.snapshot_index);
    log_.AppliedTo(*handed_.snapshot_index);
  }
  if (handed_.last_entry) {
    log_.StableTo(handed_.last_entry->first, handed_.last_entry->second);
    if (role_ == Role::kLeader) {
      // The leader's own copy now counts toward the quorum (it is durable).
      auto self = prs_.find(id_);
      if (self != prs_.end() && self->second.MaybeUpdate(log_.LastStableIndex()) &&
          MaybeCommit()) {
        bcast_commit_ = true;
      }
    }
  }
  if (handed_.last_committed) {
    log_.AppliedTo(*handed_.last_committed);
    if (role_ == Role::kLeader) {
      uncommitted_bytes_ -= std::min(uncommitted_bytes_, handed_.committed_bytes);
      MaybeAutoLeave();
    }
  }
  handed_ = Handed{};
}

NodeStatus Raft::GetStatus() const {
  NodeStatus s;
  s.id = id_;
  s.term = term_;
  s.vote = vote_;
  s.commit = log_.committed();
  s.applied = log_.applied();
  s.last_index = log_.LastIndex();
  s.role = role_;
  s.leader = lead_;
  s.conf_state = conf_.ToConfState();
  if (role_ == Role::kLeader) {
    s.lease_valid = LeaseValid();
    for (const auto& [id, pr] : prs_) {
      s.progress.emplace(id, ProgressStatus{pr.match, pr.next, pr.state, pr.learner,
                                            pr.recent_active, pr.inflights.count()});
    }
  }
  return s;
}

bool MaySendBeforePersist(const Message& m) {
  // Only the leader sends these, and they carry its term (durable since it campaigned) and
  // entries it will count for itself only once they are stable (Advance).
  return m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat;
}

}  // namespace synod::raft
