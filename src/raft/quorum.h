// Quorum arithmetic for majority and joint configurations (Raft §5, joint consensus §6).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "raft/types.h"

namespace synod::raft {

enum class VoteResult : uint8_t { kPending, kLost, kWon };

// A sorted, duplicate-free voter set.
class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::vector<NodeId> ids);

  const std::vector<NodeId>& ids() const { return ids_; }
  bool Contains(NodeId id) const;
  bool empty() const { return ids_.empty(); }
  size_t size() const { return ids_.size(); }
  void Add(NodeId id);
  void Remove(NodeId id);

  // The largest value v such that a majority of voters report a value >= v, where `value`
  // gives each voter's report (e.g. match index). An empty config returns max, so a joint
  // config with an empty outgoing half is decided by its incoming half alone.
  uint64_t QuorumValue(const std::function<uint64_t(NodeId)>& value) const;
  // votes(id): 1 granted, 0 rejected, -1 not yet voted.
  VoteResult Vote(const std::function<int(NodeId)>& votes) const;

 private:
  std::vector<NodeId> ids_;
};

// Two majorities, both of which must agree while a joint configuration is in effect.
struct JointConfig {
  MajorityConfig incoming;
  MajorityConfig outgoing;  // empty unless joint

  bool IsJoint() const { return !outgoing.empty(); }
  bool Contains(NodeId id) const { return incoming.Contains(id) || outgoing.Contains(id); }
  std::vector<NodeId> Ids() const;  // union, sorted
  uint64_t QuorumValue(const std::function<uint64_t(NodeId)>& value) const;
  VoteResult Vote(const std::function<int(NodeId)>& votes) const;
};

}  // namespace synod::raft
