#include "sim/membership.h"

#include <cmath>
#include <vector>

namespace synod::sim {

using raft::ConfChange;
using raft::ConfChangeSingle;
using raft::ConfChangeTransition;
using raft::ConfChangeType;
using raft::NodeId;

namespace {

Micros PoissonDelay(Random& rng, double rate_per_s) {
  return static_cast<Micros>(-std::log(1.0 - rng.NextDouble()) / rate_per_s * 1e6) + 1;
}

std::set<uint64_t> Ids(const std::vector<NodeId>& v) {
  std::set<uint64_t> out;
  for (NodeId id : v) out.insert(id.value);
  return out;
}

template <typename Set>
uint64_t PickFrom(Random& rng, const Set& s) {
  auto it = s.begin();
  std::advance(it, static_cast<long>(rng.Uniform(s.size())));
  return *it;
}

}  // namespace

MembershipOperator::MembershipOperator(Cluster* cluster, Random rng)
    : cluster_(cluster), rng_(rng), o_(cluster->options()) {}

void MembershipOperator::Start() {
  active_ = true;
  if (o_.conf_change_rate_per_s > 0) ScheduleChange();
  if (o_.transfer_rate_per_s > 0) ScheduleTransfer();
}

void MembershipOperator::ScheduleChange() {
  cluster_->queue().After(PoissonDelay(rng_, o_.conf_change_rate_per_s), [this] {
    if (!active_) return;
    ProposeChange();
    ScheduleChange();
  });
}

void MembershipOperator::ScheduleTransfer() {
  cluster_->queue().After(PoissonDelay(rng_, o_.transfer_rate_per_s), [this] {
    if (!active_) return;
    Transfer();
    ScheduleTransfer();
  });
}

bool MembershipOperator::Workable(const std::set<uint64_t>& voters) const {
  if (voters.size() < 3 && voters.size() < o_.initial_voters) return false;
  size_t healthy = 0;
  for (uint64_t v : voters) {
    const NodeHost& h = cluster_->host(static_cast<uint32_t>(v));
    healthy += h.lost() || h.disk_damaged() ? 0 : 1;
  }
  return healthy >= voters.size() / 2 + 1;
}

bool MembershipOperator::Propose(NodeHost& leader, const ConfChange& cc, const std::string& what) {
  const raft::ProposeResult r = leader.ProposeConfChange(cc);
  cluster_->trace().Note(
      cluster_->queue().now(), TraceKind::kConfChange, static_cast<uint32_t>(leader.id().value),
      "operator proposes " + what +
          (r.ok() ? "" : std::string(" (refused: ") + ErrorCodeName(r.code) + ")"));
  if (r.ok()) ++changes_;
  return r.ok();
}

void MembershipOperator::ProposeChange() {
  NodeHost* leader = cluster_->Leader();
  if (leader == nullptr) return;
  const raft::ConfState& cs = leader->conf();
  if (!cs.voters_outgoing.empty()) {
    // In a joint config: leave it explicitly if the leader will not do it by itself.
    if (!cs.auto_leave) (void)Propose(*leader, ConfChange{}, "leave joint");
    return;
  }
  const std::set<uint64_t> voters = Ids(cs.voters), learners = Ids(cs.learners);
  std::set<uint64_t> outside;
  for (uint32_t s = 1; s <= cluster_->nodes(); ++s) {
    const NodeHost& h = cluster_->host(s);
    if (!voters.count(s) && !learners.count(s) && !h.lost() && !h.disk_damaged()) outside.insert(s);
  }
  const ConfChangeTransition transitions[] = {ConfChangeTransition::kAuto,
                                              ConfChangeTransition::kJointImplicit,
                                              ConfChangeTransition::kJointExplicit};
  const ConfChangeTransition transition = transitions[rng_.Uniform(3)];
  switch (rng_.Uniform(6)) {
    case 0:  // add a learner
      if (outside.empty()) return;
      (void)Propose(
          *leader,
          ConfChange{transition, {{ConfChangeType::kAddLearner, NodeId(PickFrom(rng_, outside))}}},
          "add learner");
      return;
    case 1: {  // promote a learner
      if (learners.empty()) return;
      const uint64_t n = PickFrom(rng_, learners);
      std::set<uint64_t> next = voters;
      next.insert(n);
      if (!Workable(next)) return;
      (void)Propose(*leader, ConfChange{transition, {{ConfChangeType::kAddVoter, NodeId(n)}}},
                    "promote n" + std::to_string(n));
      return;
    }
    case 2: {  // remove a voter (or demote it to learner)
      if (voters.empty()) return;
      const uint64_t n = PickFrom(rng_, voters);
      std::set<uint64_t> next = voters;
      next.erase(n);
      if (!Workable(next)) return;
      const bool demote = rng_.Chance(0.3);
      (void)Propose(*leader,
                    ConfChange{transition,
                               {{demote ? ConfChangeType::kAddLearner : ConfChangeType::kRemoveNode,
                                 NodeId(n)}}},
                    (demote ? "demote n" : "remove n") + std::to_string(n));
      return;
    }
    case 3: {  // remove a learner
      if (learners.empty()) return;
      const uint64_t n = PickFrom(rng_, learners);
      (void)Propose(*leader, ConfChange{transition, {{ConfChangeType::kRemoveNode, NodeId(n)}}},
                    "remove learner n" + std::to_string(n));
      return;
    }
    default:  // swap: one voter in, one out, at once (needs a joint config)
      ProposeSwap(*leader, voters, learners, outside);
      return;
  }
}

void MembershipOperator::ProposeSwap(NodeHost& leader, const std::set<uint64_t>& voters,
                                     const std::set<uint64_t>& learners,
                                     const std::set<uint64_t>& outside) {
  std::set<uint64_t> candidates = learners;
  candidates.insert(outside.begin(), outside.end());
  if (candidates.empty() || voters.empty()) return;
  const uint64_t in = PickFrom(rng_, candidates), out = PickFrom(rng_, voters);
  std::set<uint64_t> next = voters;
  next.erase(out);
  next.insert(in);
  if (!Workable(next)) return;
  const ConfChangeTransition joint = rng_.Chance(0.5) ? ConfChangeTransition::kJointImplicit
                                                      : ConfChangeTransition::kJointExplicit;
  (void)Propose(leader,
                ConfChange{joint,
                           {{ConfChangeType::kAddVoter, NodeId(in)},
                            {ConfChangeType::kRemoveNode, NodeId(out)}}},
                "swap in n" + std::to_string(in) + " out n" + std::to_string(out));
}

void MembershipOperator::Transfer() {
  NodeHost* leader = cluster_->Leader();
  if (leader == nullptr) return;
  const std::vector<NodeId>& voters = leader->conf().voters;
  if (voters.size() < 2) return;
  const NodeId target = voters[rng_.Uniform(voters.size())];
  if (target == leader->id()) return;
  ++transfers_;
  cluster_->trace().Note(
      cluster_->queue().now(), TraceKind::kNote, static_cast<uint32_t>(leader->id().value),
      "operator asks for leadership transfer to n" + std::to_string(target.value));
  leader->TransferLeadership(target);
}

}  // namespace synod::sim
