#include "server/member_checks.h"

#include <algorithm>

namespace synod::server {
namespace {

bool Has(const std::vector<raft::NodeId>& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), raft::NodeId(id)) != ids.end();
}

// A member counts as started when the leader heard from it in the current check-quorum round
// or replicates to it (a member that went away falls back to probing).
bool Started(const node::NodeInfo& info, raft::NodeId id) {
  if (id == info.id) return true;
  auto it = info.progress.find(id);
  if (it == info.progress.end()) return false;
  return it->second.recent_active || it->second.state == raft::ProgressState::kReplicate;
}

size_t StartedVoters(const node::NodeInfo& info) {
  return static_cast<size_t>(std::count_if(info.conf_state.voters.begin(),
                                           info.conf_state.voters.end(),
                                           [&](raft::NodeId id) { return Started(info, id); }));
}

}  // namespace

bool IsVoter(const node::NodeInfo& info, uint64_t id) {
  return Has(info.conf_state.voters, id);
}
bool IsLearner(const node::NodeInfo& info, uint64_t id) {
  return Has(info.conf_state.learners, id);
}

bool EnoughStartedToAddVoter(const node::NodeInfo& info) {
  // The new voter is not started yet: the others must make a quorum of voters + 1.
  const size_t voters = info.conf_state.voters.size() + 1;
  return StartedVoters(info) >= voters / 2 + 1;
}

bool EnoughStartedToRemoveVoter(const node::NodeInfo& info, uint64_t removed) {
  if (!IsVoter(info, removed)) return true;  // a learner never counts toward a quorum
  const size_t voters = info.conf_state.voters.size() - 1;
  size_t started = StartedVoters(info);
  if (Started(info, raft::NodeId(removed))) --started;
  return started >= voters / 2 + 1;
}

bool LearnerReady(const node::NodeInfo& info, uint64_t learner) {
  auto it = info.progress.find(raft::NodeId(learner));
  auto self = info.progress.find(info.id);
  if (it == info.progress.end() || self == info.progress.end()) return false;
  const double leader_match = static_cast<double>(self->second.match.value);
  return static_cast<double>(it->second.match.value) >= leader_match * kLearnerReadyRatio;
}

}  // namespace synod::server
