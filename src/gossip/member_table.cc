#include "gossip/member_table.h"

#include <algorithm>

namespace synod::gossip {

namespace {
bool IdLess(const Member& m, MemberId id) {
  return m.id < id;
}
// Below this size SampleLive lists the candidates; above it, it draws at random and retries,
// which is cheaper when nearly every member is live (the normal case).
constexpr size_t kSampleScanSize = 64;
constexpr uint32_t kSampleDrawsPerPick = 8;
}  // namespace

MemberTable::MemberTable(MemberId self, uint32_t members_max)
    : self_(self), members_max_(members_max) {
  SYNOD_ASSERT(self != kNoMember, "a member table needs its own id");
  SYNOD_ASSERT(members_max >= 1, "members_max must leave room for self");
}

const Member* MemberTable::Find(MemberId id) const {
  auto it = std::lower_bound(members_.begin(), members_.end(), id, IdLess);
  return it != members_.end() && it->id == id ? &*it : nullptr;
}

Member* MemberTable::FindMutable(MemberId id) {
  return const_cast<Member*>(static_cast<const MemberTable*>(this)->Find(id));
}

void MemberTable::SetState(Member* m, MemberState state) {
  SYNOD_ASSERT(m >= members_.data() && m < members_.data() + members_.size(), "foreign member");
  if (m->id != self_) {
    if (IsLive(m->state) && !IsLive(state)) --live_others_;
    if (!IsLive(m->state) && IsLive(state)) ++live_others_;
  }
  m->state = state;
}

bool MemberTable::Insert(const Member& m) {
  SYNOD_ASSERT(m.id != kNoMember, "member id 0");
  if (full()) return false;
  auto it = std::lower_bound(members_.begin(), members_.end(), m.id, IdLess);
  SYNOD_ASSERT(it == members_.end() || it->id != m.id, "member inserted twice");
  members_.insert(it, m);
  if (m.id != self_ && IsLive(m.state)) ++live_others_;
  return true;
}

size_t MemberTable::InsertSorted(std::span<const Member> sorted) {
  const size_t room = members_max_ > members_.size() ? members_max_ - members_.size() : 0;
  const size_t take = std::min(room, sorted.size());
  if (take == 0) return 0;
  std::vector<Member> merged;
  merged.reserve(members_.size() + take);
  auto a = members_.begin();
  for (size_t i = 0; i < take; ++i) {
    const Member& m = sorted[i];
    SYNOD_ASSERT(i == 0 || sorted[i - 1].id < m.id, "InsertSorted needs sorted unique ids");
    while (a != members_.end() && a->id < m.id) merged.push_back(std::move(*a++));
    SYNOD_ASSERT(a == members_.end() || a->id != m.id, "member inserted twice");
    merged.push_back(m);
    if (m.id != self_ && IsLive(m.state)) ++live_others_;
  }
  while (a != members_.end()) merged.push_back(std::move(*a++));
  members_ = std::move(merged);
  return take;
}

void MemberTable::SampleLive(Random& rng, uint32_t count, MemberId exclude,
                             std::vector<MemberId>* out) const {
  out->clear();
  if (count == 0 || live_others_ == 0) return;
  auto eligible = [&](const Member& m) {
    return m.id != self_ && m.id != exclude && IsLive(m.state);
  };
  if (members_.size() <= kSampleScanSize) {
    for (const Member& m : members_) {
      if (eligible(m)) out->push_back(m.id);
    }
    // Partial Fisher-Yates: the first `count` entries become a uniform sample.
    const size_t k = std::min<size_t>(count, out->size());
    for (size_t i = 0; i < k; ++i) std::swap((*out)[i], (*out)[i + rng.Uniform(out->size() - i)]);
    out->resize(k);
    return;
  }
  for (uint32_t draw = 0; draw < count * kSampleDrawsPerPick && out->size() < count; ++draw) {
    const Member& m = members_[rng.Uniform(members_.size())];
    if (!eligible(m)) continue;
    if (std::find(out->begin(), out->end(), m.id) != out->end()) continue;
    out->push_back(m.id);
  }
}

}  // namespace synod::gossip
