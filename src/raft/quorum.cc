#include "raft/quorum.h"

#include <algorithm>

namespace synod::raft {

MajorityConfig::MajorityConfig(std::vector<NodeId> ids) : ids_(std::move(ids)) {
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
}

bool MajorityConfig::Contains(NodeId id) const {
  return std::binary_search(ids_.begin(), ids_.end(), id);
}

void MajorityConfig::Add(NodeId id) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) ids_.insert(it, id);
}

void MajorityConfig::Remove(NodeId id) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it != ids_.end() && *it == id) ids_.erase(it);
}

uint64_t MajorityConfig::QuorumValue(const std::function<uint64_t(NodeId)>& value) const {
  const size_t n = ids_.size();
  if (n == 0) return std::numeric_limits<uint64_t>::max();
  // Small groups are the norm: a fixed buffer avoids an allocation on every commit check.
  uint64_t stack[16];
  std::vector<uint64_t> heap;
  uint64_t* v = stack;
  if (n > 16) {
    heap.resize(n);
    v = heap.data();
  }
  for (size_t i = 0; i < n; ++i) v[i] = value(ids_[i]);
  std::sort(v, v + n);
  // Sorted ascending, the element at n - (n/2 + 1) is reached by n/2 + 1 voters.
  return v[n - (n / 2 + 1)];
}

VoteResult MajorityConfig::Vote(const std::function<int(NodeId)>& votes) const {
  if (ids_.empty()) return VoteResult::kWon;
  size_t granted = 0, missing = 0;
  for (NodeId id : ids_) {
    const int v = votes(id);
    if (v > 0) ++granted;
    if (v < 0) ++missing;
  }
  const size_t q = ids_.size() / 2 + 1;
  if (granted >= q) return VoteResult::kWon;
  if (granted + missing >= q) return VoteResult::kPending;
  return VoteResult::kLost;
}

std::vector<NodeId> JointConfig::Ids() const {
  std::vector<NodeId> out;
  std::set_union(incoming.ids().begin(), incoming.ids().end(), outgoing.ids().begin(),
                 outgoing.ids().end(), std::back_inserter(out));
  return out;
}

uint64_t JointConfig::QuorumValue(const std::function<uint64_t(NodeId)>& value) const {
  return std::min(incoming.QuorumValue(value), outgoing.QuorumValue(value));
}

VoteResult JointConfig::Vote(const std::function<int(NodeId)>& votes) const {
  const VoteResult a = incoming.Vote(votes);
  const VoteResult b = outgoing.Vote(votes);
  if (a == b) return a;
  if (a == VoteResult::kLost || b == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace synod::raft
