// The leader's checks before a membership change, as etcd makes them (pure functions over the
// node's view of its followers, so they are tested without a cluster):
// - a voter is added only if the members started now still make a quorum of the larger
//   cluster, and removed only if those left make a quorum of the smaller one ("etcdserver:
//   re-configuration failed due to not enough started members");
// - a learner is promoted only once its log is within 10% of the leader's ("can only promote
//   a learner member which is in sync with leader").
#pragma once

#include <cstdint>

#include "node/node.h"

namespace synod::server {

// etcd's readiness ratio for promotion: the learner's match index / the leader's.
inline constexpr double kLearnerReadyRatio = 0.9;
// etcd's default --experimental-max-learners.
inline constexpr size_t kLearnersMax = 1;

// REQUIRES: `info` is the leader's (its progress map is filled).
bool EnoughStartedToAddVoter(const node::NodeInfo& info);
bool EnoughStartedToRemoveVoter(const node::NodeInfo& info, uint64_t removed);
bool LearnerReady(const node::NodeInfo& info, uint64_t learner);
bool IsVoter(const node::NodeInfo& info, uint64_t id);
bool IsLearner(const node::NodeInfo& info, uint64_t id);

}  // namespace synod::server
