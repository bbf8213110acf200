#include "sim/safety_checker.h"

#include <gtest/gtest.h>

namespace synod::sim {
namespace {

using raft::Entry;
using raft::LogIndex;
using raft::NodeId;
using raft::Term;

Entry E(uint64_t term, uint64_t index, const char* data) {
  return Entry{Term(term), LogIndex(index), raft::EntryType::kNormal, raft::Payload(data)};
}

TEST(SafetyChecker, ElectionSafety) {
  SafetyChecker c;
  c.OnLeader(NodeId(1), Term(2));
  c.OnLeader(NodeId(1), Term(2));
  c.OnLeader(NodeId(2), Term(3));
  EXPECT_FALSE(c.failed());
  c.OnLeader(NodeId(3), Term(3));
  ASSERT_TRUE(c.failed());
  EXPECT_NE(c.failure().find("two leaders in term 3"), std::string::npos);
}

TEST(SafetyChecker, LogMatching) {
  SafetyChecker c;
  c.OnDurableAppend(NodeId(1), Term(1), {E(1, 2, "a"), E(2, 3, "b")});
  c.OnDurableAppend(NodeId(2), Term(1), {E(1, 2, "a")});
  c.OnDurableAppend(NodeId(2), Term(1), {E(2, 3, "b"), E(2, 4, "c")});
  EXPECT_FALSE(c.failed());
  // Same index and term, different payload.
  c.OnDurableAppend(NodeId(3), Term(1), {E(1, 2, "x")});
  EXPECT_TRUE(c.failed());
}

TEST(SafetyChecker, LogMatchingCoversThePrefix) {
  SafetyChecker c;
  c.OnDurableAppend(NodeId(1), Term(1), {E(2, 5, "a")});
  c.OnDurableAppend(NodeId(2), Term(2), {E(2, 5, "a")});  // same entry, different predecessor
  ASSERT_TRUE(c.failed());
  EXPECT_NE(c.failure().find("previous term"), std::string::npos);
}

TEST(SafetyChecker, StateMachineSafety) {
  SafetyChecker c;
  c.OnApply(NodeId(1), E(1, 1, "a"));
  c.OnApply(NodeId(2), E(1, 1, "a"));
  EXPECT_FALSE(c.failed());
  EXPECT_EQ(c.committed_max(), LogIndex(1));
  c.OnApply(NodeId(3), E(2, 1, "b"));
  EXPECT_TRUE(c.failed());
}

TEST(SafetyChecker, SnapshotsMustAgree) {
  SafetyChecker c;
  c.OnStateAt(NodeId(1), LogIndex(10), Term(2), 1234);
  c.OnStateAt(NodeId(2), LogIndex(10), Term(2), 1234);
  EXPECT_FALSE(c.failed());
  c.OnStateAt(NodeId(3), LogIndex(10), Term(2), 999);
  EXPECT_TRUE(c.failed());
}

TEST(SafetyChecker, LeaderCompleteness) {
  SafetyChecker c;
  c.OnApply(NodeId(1), E(1, 1, "a"));
  c.OnApply(NodeId(1), E(1, 2, "b"));
  auto log_with = [](std::vector<uint64_t> terms) {
    LogView v;
    v.term_at = [terms](LogIndex i) -> std::optional<Term> {
      if (i.value == 0 || i.value > terms.size()) return std::nullopt;
      return Term(terms[i.value - 1]);
    };
    return v;
  };
  c.OnBecameLeader(NodeId(2), Term(2), log_with({1, 1, 2}));
  EXPECT_FALSE(c.failed());
  c.OnBecameLeader(NodeId(3), Term(3), log_with({1}));  // lacks committed index 2
  ASSERT_TRUE(c.failed());
  EXPECT_NE(c.failure().find("leader completeness"), std::string::npos);
}

TEST(SafetyChecker, CommitmentRule) {
  SafetyChecker c;
  c.OnLeaderCommit(NodeId(1), Term(3), LogIndex(5), LogIndex(5), Term(2));  // not moved
  c.OnLeaderCommit(NodeId(1), Term(3), LogIndex(5), LogIndex(8), Term(3));  // own term
  EXPECT_FALSE(c.failed());
  c.OnLeaderCommit(NodeId(1), Term(3), LogIndex(5), LogIndex(7), Term(2));  // counted old entry
  EXPECT_TRUE(c.failed());
}

TEST(SafetyChecker, ReadIndexSafety) {
  SafetyChecker c;
  c.OnReadIndex(NodeId(1), LogIndex(7), LogIndex(7));
  EXPECT_FALSE(c.failed());
  c.OnReadIndex(NodeId(1), LogIndex(6), LogIndex(7));
  EXPECT_TRUE(c.failed());
}

TEST(SafetyChecker, RemembersTheLatestQuorumCommit) {
  SafetyChecker c;
  EXPECT_FALSE(c.last_quorum_commit().has_value());
  raft::ConfState joint;
  joint.voters = {NodeId(2), NodeId(3), NodeId(5)};
  joint.voters_outgoing = {NodeId(1), NodeId(2), NodeId(3)};
  c.RecordQuorumCommit(NodeId(3), LogIndex(9), Term(4), joint);
  c.RecordQuorumCommit(NodeId(1), LogIndex(7), Term(3), raft::ConfState{});  // older: ignored
  ASSERT_TRUE(c.last_quorum_commit().has_value());
  EXPECT_EQ(c.last_quorum_commit()->index, LogIndex(9));
  EXPECT_EQ(c.last_quorum_commit()->conf, joint);
}

TEST(SafetyChecker, KeepsTheFirstFailure) {
  SafetyChecker c;
  c.Fail("first");
  c.Fail("second");
  EXPECT_EQ(c.failure(), "first");
}

}  // namespace
}  // namespace synod::sim
