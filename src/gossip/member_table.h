// The members one node knows of, itself included, sorted by id in one flat vector. A node of a
// 10,000-member cluster keeps 10,000 entries, and the simulator runs 10,000 nodes in one
// process: a flat vector costs ~32 bytes an entry where a node-based map would cost ~90.
// Single inserts shift the tail (rare: one per join); bulk inserts (push-pull) merge in one pass.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/random.h"
#include "gossip/types.h"

namespace synod::gossip {

struct Member {
  MemberId id;
  Incarnation incarnation;
  MemberState state = MemberState::kAlive;
  MetaPtr meta;
};

inline bool IsLive(MemberState s) {
  return s == MemberState::kAlive || s == MemberState::kSuspect;
}

class MemberTable {
 public:
  MemberTable(MemberId self, uint32_t members_max);

  const Member* Find(MemberId id) const;
  // Changes go through SetState so the live count stays right.
  Member* FindMutable(MemberId id);
  void SetState(Member* m, MemberState state);

  // Adds a member not yet present. False (nothing added) when members_max is reached.
  bool Insert(const Member& m);
  // Adds members not yet present, sorted by id and without duplicates, in one merge pass.
  // Returns how many were added (fewer than given when members_max is reached).
  size_t InsertSorted(std::span<const Member> sorted);

  // Up to `count` distinct live members other than self and `exclude`, chosen at random.
  void SampleLive(Random& rng, uint32_t count, MemberId exclude, std::vector<MemberId>* out) const;

  const std::vector<Member>& all() const { return members_; }
  size_t size() const { return members_.size(); }
  bool full() const { return members_.size() >= members_max_; }
  // Live (alive or suspect) members other than self.
  uint32_t live_others() const { return live_others_; }

 private:
  MemberId self_;
  uint32_t members_max_;
  std::vector<Member> members_;  // sorted by id
  uint32_t live_others_ = 0;
};

}  // namespace synod::gossip
