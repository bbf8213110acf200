#include "raft/changer.h"

#include <algorithm>

namespace synod::raft {
namespace {

void InsertSorted(std::vector<NodeId>& v, NodeId id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it == v.end() || *it != id) v.insert(it, id);
}

void EraseSorted(std::vector<NodeId>& v, NodeId id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it != v.end() && *it == id) v.erase(it);
}

void Apply(TrackerConfig& cfg, const ConfChangeSingle& c) {
  switch (c.type) {
    case ConfChangeType::kAddVoter:
      cfg.voters.incoming.Add(c.node);
      EraseSorted(cfg.learners, c.node);
      EraseSorted(cfg.learners_next, c.node);
      break;
    case ConfChangeType::kAddLearner:
      cfg.voters.incoming.Remove(c.node);
      EraseSorted(cfg.learners, c.node);
      EraseSorted(cfg.learners_next, c.node);
      // A voter of the outgoing half keeps voting there until the joint config is left.
      if (cfg.voters.outgoing.Contains(c.node)) {
        InsertSorted(cfg.learners_next, c.node);
      } else {
        InsertSorted(cfg.learners, c.node);
      }
      break;
    case ConfChangeType::kRemoveNode:
      cfg.voters.incoming.Remove(c.node);
      EraseSorted(cfg.learners, c.node);
      EraseSorted(cfg.learners_next, c.node);
      break;
  }
}

size_t SymmetricDifference(const MajorityConfig& a, const MajorityConfig& b) {
  std::vector<NodeId> d;
  std::set_symmetric_difference(a.ids().begin(), a.ids().end(), b.ids().begin(), b.ids().end(),
                                std::back_inserter(d));
  return d.size();
}

}  // namespace

TrackerConfig TrackerConfigFrom(const ConfState& cs) {
  TrackerConfig cfg;
  cfg.voters.incoming = MajorityConfig(cs.voters);
  cfg.voters.outgoing = MajorityConfig(cs.voters_outgoing);
  cfg.learners = MajorityConfig(cs.learners).ids();  // sorted, unique
  cfg.learners_next = MajorityConfig(cs.learners_next).ids();
  cfg.auto_leave = cs.auto_leave;
  return cfg;
}

Result<TrackerConfig> ApplyConfChangeTo(const TrackerConfig& current, const ConfChange& cc) {
  TrackerConfig next = current;
  if (cc.LeavesJoint()) {
    if (!current.voters.IsJoint()) {
      return Status(ErrorCode::kInvalidArgument, "not in a joint config, nothing to leave");
    }
    next.voters.outgoing = MajorityConfig();
    for (NodeId id : next.learners_next) InsertSorted(next.learners, id);
    next.learners_next.clear();
    next.auto_leave = false;
    return next;
  }
  bool auto_leave = false;
  const bool joint = cc.EntersJoint(&auto_leave);
  if (current.voters.IsJoint()) {
    return Status(ErrorCode::kInvalidArgument, "already in a joint config; leave it first");
  }
  if (joint) next.voters.outgoing = current.voters.incoming;
  for (const auto& c : cc.changes) {
    if (c.node == kNoNode) return Status(ErrorCode::kInvalidArgument, "change names node 0");
    Apply(next, c);
  }
  if (next.voters.incoming.empty()) {
    return Status(ErrorCode::kInvalidArgument, "the change removes every voter");
  }
  if (joint) {
    next.auto_leave = auto_leave;
  } else if (SymmetricDifference(current.voters.incoming, next.voters.incoming) > 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "more than one voter changed; use a joint config");
  }
  return next;
}

}  // namespace synod::raft
