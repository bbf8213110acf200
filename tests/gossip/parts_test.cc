// The pieces of the SWIM core: the member table, the broadcast queue (SWIM §4.1) and
// Lifeguard's suspicion timeout (Lifeguard §4.2).
#include <gtest/gtest.h>

#include "gossip/broadcast_queue.h"
#include "gossip/member_table.h"
#include "gossip/suspicion.h"

namespace synod::gossip {
namespace {

Update Alive(uint64_t id, uint32_t inc = 0) {
  return Update{MemberState::kAlive, MemberId(id), Incarnation(inc), MemberId(id), nullptr};
}

TEST(MemberTable, InsertFindAndLiveCount) {
  MemberTable t(MemberId(5), 10);
  ASSERT_TRUE(t.Insert(Member{MemberId(5), Incarnation(0), MemberState::kAlive, nullptr}));
  ASSERT_TRUE(t.Insert(Member{MemberId(9), Incarnation(0), MemberState::kAlive, nullptr}));
  ASSERT_TRUE(t.Insert(Member{MemberId(2), Incarnation(0), MemberState::kAlive, nullptr}));
  EXPECT_EQ(t.live_others(), 2u);  // self is not counted
  ASSERT_NE(t.Find(MemberId(2)), nullptr);
  EXPECT_EQ(t.Find(MemberId(3)), nullptr);
  EXPECT_EQ(t.all()[0].id, MemberId(2));  // sorted
  t.SetState(t.FindMutable(MemberId(9)), MemberState::kDead);
  EXPECT_EQ(t.live_others(), 1u);
  t.SetState(t.FindMutable(MemberId(9)), MemberState::kAlive);
  EXPECT_EQ(t.live_others(), 2u);
}

TEST(MemberTable, BulkMergeAndLimit) {
  MemberTable t(MemberId(1), 5);
  ASSERT_TRUE(t.Insert(Member{MemberId(1), Incarnation(0), MemberState::kAlive, nullptr}));
  ASSERT_TRUE(t.Insert(Member{MemberId(4), Incarnation(0), MemberState::kAlive, nullptr}));
  std::vector<Member> more;
  for (uint64_t id : {2, 3, 5, 6, 7}) {
    more.push_back(Member{MemberId(id), Incarnation(0), MemberState::kAlive, nullptr});
  }
  EXPECT_EQ(t.InsertSorted(more), 3u);  // members_max = 5
  EXPECT_TRUE(t.full());
  EXPECT_FALSE(t.Insert(Member{MemberId(8), Incarnation(0), MemberState::kAlive, nullptr}));
  for (size_t i = 1; i < t.all().size(); ++i) EXPECT_LT(t.all()[i - 1].id, t.all()[i].id);
}

TEST(MemberTable, SampleLiveIsDistinctAndExcludes) {
  Random rng(3);
  for (uint32_t n : {5u, 200u}) {
    MemberTable t(MemberId(1), 1000);
    for (uint64_t id = 1; id <= n; ++id) {
      ASSERT_TRUE(t.Insert(Member{MemberId(id), Incarnation(0), MemberState::kAlive, nullptr}));
    }
    t.SetState(t.FindMutable(MemberId(2)), MemberState::kDead);
    std::vector<MemberId> out;
    for (int round = 0; round < 50; ++round) {
      t.SampleLive(rng, 3, MemberId(3), &out);
      EXPECT_EQ(out.size(), n == 5 ? 2u : 3u);  // with 5, only 4 and 5 qualify
      for (size_t i = 0; i < out.size(); ++i) {
        EXPECT_NE(out[i], MemberId(1));
        EXPECT_NE(out[i], MemberId(2));
        EXPECT_NE(out[i], MemberId(3));
        for (size_t j = 0; j < i; ++j) EXPECT_NE(out[i], out[j]);
      }
    }
  }
}

TEST(BroadcastQueue, RetransmitLimitAndLeastSentFirst) {
  BroadcastQueue q(16);
  q.Push(Alive(1));
  q.Push(Alive(2));
  std::vector<Update> out;
  q.Fill(3, 1, kNoMember, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].member, MemberId(2));  // newest among the least sent
  out.clear();
  q.Fill(3, 1, kNoMember, &out);
  EXPECT_EQ(out[0].member, MemberId(1));  // now the least sent
  // Each update leaves after 3 transmissions.
  for (int i = 0; i < 10; ++i) q.Fill(3, 2, kNoMember, &out);
  EXPECT_TRUE(q.empty());
}

TEST(BroadcastQueue, NewerUpdateReplacesAndFullQueueDropsMostSent) {
  BroadcastQueue q(2);
  q.Push(Alive(1, 0));
  q.Push(Alive(1, 1));
  EXPECT_EQ(q.size(), 1u);
  std::vector<Update> out;
  q.Fill(10, 5, kNoMember, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].incarnation, Incarnation(1));
  q.Push(Alive(2));
  q.Push(Alive(3));  // full: member 1 was sent once, so it goes
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.dropped(), 1u);
  out.clear();
  q.Fill(10, 5, MemberId(3), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].member, MemberId(2));  // skip honoured
}

TEST(Suspicion, BoundsScaleWithLogN) {
  const auto small = ComputeSuspicionBounds(5, 20, 100, 3);
  EXPECT_EQ(small.min_ticks, 20u);  // log10 floored at 1
  EXPECT_EQ(small.max_ticks, 60u);
  const auto big = ComputeSuspicionBounds(1000, 20, 100, 3);
  EXPECT_EQ(big.min_ticks, 60u);
  EXPECT_EQ(big.max_ticks, 180u);
}

TEST(Suspicion, TimeoutShrinksWithConfirmations) {
  const SuspicionBounds b{60, 180};
  EXPECT_EQ(SuspicionTimeoutTicks(b, 0, 3), 180u);
  const uint64_t one = SuspicionTimeoutTicks(b, 1, 3);
  const uint64_t two = SuspicionTimeoutTicks(b, 2, 3);
  EXPECT_LT(one, 180u);
  EXPECT_LT(two, one);
  EXPECT_EQ(SuspicionTimeoutTicks(b, 3, 3), 60u);
  EXPECT_EQ(SuspicionTimeoutTicks(b, 9, 3), 60u);
  EXPECT_EQ(SuspicionTimeoutTicks(b, 0, 0), 60u);  // nobody to confirm: the minimum
  // Lifeguard's log shape: the first confirmation buys the most.
  EXPECT_GT(180 - one, one - two);
}

}  // namespace
}  // namespace synod::gossip
