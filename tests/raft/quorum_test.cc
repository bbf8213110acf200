// Quorum arithmetic (quorum.h): commit indexes and election outcomes for majority and joint
// configurations (Raft §5.2, §5.3, §6).
#include <gtest/gtest.h>

#include <map>

#include "raft/quorum.h"

namespace synod::raft {
namespace {

std::vector<NodeId> Ids(std::initializer_list<uint64_t> ids) {
  std::vector<NodeId> out;
  for (uint64_t id : ids) out.emplace_back(id);
  return out;
}

// Reported values by node id; absent nodes report 0.
std::function<uint64_t(NodeId)> Values(std::map<uint64_t, uint64_t> v) {
  return [v](NodeId id) {
    auto it = v.find(id.value);
    return it == v.end() ? uint64_t{0} : it->second;
  };
}

// Votes by node id: 'y' granted, 'n' rejected; absent nodes have not answered.
std::function<int(NodeId)> Votes(std::map<uint64_t, char> v) {
  return [v](NodeId id) {
    auto it = v.find(id.value);
    if (it == v.end()) return -1;
    return it->second == 'y' ? 1 : 0;
  };
}

TEST(MajorityConfig, SortedWithoutDuplicates) {
  MajorityConfig c(Ids({3, 1, 2, 3}));
  EXPECT_EQ(c.ids(), Ids({1, 2, 3}));
  EXPECT_TRUE(c.Contains(NodeId(2)));
  EXPECT_FALSE(c.Contains(NodeId(4)));
  c.Add(NodeId(4));
  c.Add(NodeId(2));
  c.Remove(NodeId(1));
  c.Remove(NodeId(9));
  EXPECT_EQ(c.ids(), Ids({2, 3, 4}));
}

TEST(MajorityConfig, QuorumValueOddSizes) {
  EXPECT_EQ(MajorityConfig(Ids({1})).QuorumValue(Values({{1, 7}})), 7u);
  // Three voters: the second highest value is held by two of them.
  EXPECT_EQ(MajorityConfig(Ids({1, 2, 3})).QuorumValue(Values({{1, 5}, {2, 3}, {3, 9}})), 5u);
  EXPECT_EQ(MajorityConfig(Ids({1, 2, 3})).QuorumValue(Values({{1, 5}})), 0u);
  // Five voters need three.
  EXPECT_EQ(MajorityConfig(Ids({1, 2, 3, 4, 5}))
                .QuorumValue(Values({{1, 10}, {2, 10}, {3, 4}, {4, 2}, {5, 8}})),
            8u);
}

TEST(MajorityConfig, QuorumValueEvenSizes) {
  // Two voters need both; four voters need three.
  EXPECT_EQ(MajorityConfig(Ids({1, 2})).QuorumValue(Values({{1, 5}, {2, 3}})), 3u);
  EXPECT_EQ(MajorityConfig(Ids({1, 2, 3, 4}))
                .QuorumValue(Values({{1, 1}, {2, 2}, {3, 3}, {4, 4}})),
            2u);
  EXPECT_EQ(MajorityConfig(Ids({1, 2, 3, 4})).QuorumValue(Values({{1, 9}, {2, 9}})), 0u);
}

TEST(MajorityConfig, QuorumValueOfALargeGroup) {
  // Past the fixed-size buffer: 17 voters reporting 1..17 need 9, so the value is 9.
  std::vector<NodeId> ids;
  std::map<uint64_t, uint64_t> v;
  for (uint64_t i = 1; i <= 17; ++i) {
    ids.emplace_back(i);
    v[i] = i;
  }
  EXPECT_EQ(MajorityConfig(ids).QuorumValue(Values(v)), 9u);
}

TEST(MajorityConfig, EmptyConfigDecidesNothingAgainst) {
  EXPECT_EQ(MajorityConfig().QuorumValue(Values({})), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(MajorityConfig().Vote(Votes({})), VoteResult::kWon);
}

TEST(MajorityConfig, Section5_2_VoteOutcomes) {
  const MajorityConfig three(Ids({1, 2, 3}));
  EXPECT_EQ(three.Vote(Votes({{1, 'y'}, {2, 'y'}})), VoteResult::kWon);
  EXPECT_EQ(three.Vote(Votes({{1, 'y'}})), VoteResult::kPending);
  EXPECT_EQ(three.Vote(Votes({{1, 'y'}, {2, 'n'}})), VoteResult::kPending);
  EXPECT_EQ(three.Vote(Votes({{1, 'y'}, {2, 'n'}, {3, 'n'}})), VoteResult::kLost);
  EXPECT_EQ(three.Vote(Votes({{2, 'n'}, {3, 'n'}})), VoteResult::kLost);
  // Votes from outside the config do not count.
  EXPECT_EQ(three.Vote(Votes({{1, 'y'}, {7, 'y'}})), VoteResult::kPending);

  const MajorityConfig four(Ids({1, 2, 3, 4}));
  EXPECT_EQ(four.Vote(Votes({{1, 'y'}, {2, 'y'}})), VoteResult::kPending);
  EXPECT_EQ(four.Vote(Votes({{1, 'y'}, {2, 'y'}, {3, 'n'}, {4, 'n'}})), VoteResult::kLost);
  EXPECT_EQ(four.Vote(Votes({{1, 'y'}, {2, 'y'}, {3, 'y'}})), VoteResult::kWon);
}

TEST(JointConfig, NotJointIsTheIncomingMajority) {
  JointConfig j;
  j.incoming = MajorityConfig(Ids({1, 2, 3}));
  EXPECT_FALSE(j.IsJoint());
  EXPECT_EQ(j.QuorumValue(Values({{1, 4}, {2, 6}, {3, 1}})), 4u);
  EXPECT_EQ(j.Vote(Votes({{1, 'y'}, {3, 'y'}})), VoteResult::kWon);
  EXPECT_EQ(j.Ids(), Ids({1, 2, 3}));
}

TEST(JointConfig, Section6_BothMajoritiesAreNeeded) {
  JointConfig j;
  j.incoming = MajorityConfig(Ids({1, 2, 4}));
  j.outgoing = MajorityConfig(Ids({1, 2, 3}));
  EXPECT_TRUE(j.IsJoint());
  EXPECT_EQ(j.Ids(), Ids({1, 2, 3, 4}));
  EXPECT_TRUE(j.Contains(NodeId(3)));
  EXPECT_TRUE(j.Contains(NodeId(4)));
  // 1 and 4: a majority of the new half only.
  EXPECT_EQ(j.QuorumValue(Values({{1, 7}, {4, 7}})), 0u);
  // 1 and 3: a majority of the old half only.
  EXPECT_EQ(j.QuorumValue(Values({{1, 7}, {3, 7}})), 0u);
  // The smaller of the two halves' values.
  EXPECT_EQ(j.QuorumValue(Values({{1, 9}, {2, 5}, {3, 8}, {4, 6}})), 6u);

  EXPECT_EQ(j.Vote(Votes({{1, 'y'}, {4, 'y'}})), VoteResult::kPending);
  EXPECT_EQ(j.Vote(Votes({{1, 'y'}, {4, 'y'}, {3, 'y'}})), VoteResult::kWon);
  EXPECT_EQ(j.Vote(Votes({{1, 'y'}, {2, 'y'}})), VoteResult::kWon);  // 1,2 are in both
  // Losing either half loses the election, even while the other is still open.
  EXPECT_EQ(j.Vote(Votes({{2, 'n'}, {3, 'n'}})), VoteResult::kLost);
  EXPECT_EQ(j.Vote(Votes({{2, 'n'}, {4, 'n'}})), VoteResult::kLost);
  EXPECT_EQ(j.Vote(Votes({{1, 'y'}, {2, 'y'}, {3, 'n'}, {4, 'n'}})), VoteResult::kWon);
}

}  // namespace
}  // namespace synod::raft
