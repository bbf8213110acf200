// The operator: changes membership and moves leadership while the safety phase runs. At
// random times it asks the current leader to add a learner, promote a learner, remove or
// demote a member, swap a voter for another through a joint configuration (Raft §6,
// thesis §4.3, with automatic or explicit leave), or hand leadership to another voter
// (thesis §3.10).
//
// It keeps the cluster workable: at least three voters, of which a majority are nodes that
// can still start (not lost to disk corruption), so the liveness phase can make progress.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "base/random.h"
#include "raft/confchange.h"
#include "sim/cluster.h"

namespace synod::sim {

class MembershipOperator {
 public:
  MembershipOperator(Cluster* cluster, Random rng);

  void Start();
  void Stop() { active_ = false; }

  uint64_t changes_proposed() const { return changes_; }
  uint64_t transfers() const { return transfers_; }

 private:
  void ScheduleChange();
  void ScheduleTransfer();
  void ProposeChange();
  void ProposeSwap(NodeHost& leader, const std::set<uint64_t>& voters,
                   const std::set<uint64_t>& learners, const std::set<uint64_t>& outside);
  void Transfer();
  // Whether a config with these voters stays workable.
  bool Workable(const std::set<uint64_t>& voters) const;
  bool Propose(NodeHost& leader, const raft::ConfChange& cc, const std::string& what);

  Cluster* cluster_;
  Random rng_;
  const SimOptions& o_;
  bool active_ = false;
  uint64_t changes_ = 0;
  uint64_t transfers_ = 0;
};

}  // namespace synod::sim
