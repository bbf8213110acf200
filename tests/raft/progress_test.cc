// Progress and Inflights (progress.h): the leader's per-follower view (Raft §5.3 nextIndex and
// matchIndex) and the bounded window of pipelined appends.
#include <gtest/gtest.h>

#include "raft/progress.h"

namespace synod::raft {
namespace {

TEST(Inflights, FillsUpToCapacity) {
  Inflights in(3);
  EXPECT_FALSE(in.Full());
  in.Add(LogIndex(1));
  in.Add(LogIndex(2));
  EXPECT_EQ(in.count(), 2u);
  EXPECT_FALSE(in.Full());
  in.Add(LogIndex(3));
  EXPECT_TRUE(in.Full());
  EXPECT_DEATH(in.Add(LogIndex(4)), "full inflight window");
}

TEST(Inflights, FreeLEReleasesEveryAcknowledgedMessage) {
  Inflights in(4);
  for (uint64_t i : {2, 4, 6, 8}) in.Add(LogIndex(i));
  in.FreeLE(LogIndex(1));  // nothing that old
  EXPECT_EQ(in.count(), 4u);
  in.FreeLE(LogIndex(5));  // 2 and 4
  EXPECT_EQ(in.count(), 2u);
  in.FreeLE(LogIndex(8));
  EXPECT_EQ(in.count(), 0u);
}

TEST(Inflights, WrapsAroundTheRing) {
  Inflights in(4);
  for (uint64_t i = 1; i <= 4; ++i) in.Add(LogIndex(i));
  in.FreeLE(LogIndex(3));
  // The ring now starts at slot 3; new messages wrap to slots 0..2.
  in.Add(LogIndex(5));
  in.Add(LogIndex(6));
  in.Add(LogIndex(7));
  EXPECT_TRUE(in.Full());
  in.FreeLE(LogIndex(5));
  EXPECT_EQ(in.count(), 2u);
  in.FreeFirstOne();
  EXPECT_EQ(in.count(), 1u);
  in.FreeLE(LogIndex(6));  // 7 is still in flight
  EXPECT_EQ(in.count(), 1u);
  in.FreeLE(LogIndex(7));
  EXPECT_EQ(in.count(), 0u);
  in.FreeFirstOne();  // empty: nothing to free
  EXPECT_EQ(in.count(), 0u);
}

TEST(Inflights, ResetEmptiesTheWindow) {
  Inflights in(2);
  in.Add(LogIndex(1));
  in.Add(LogIndex(2));
  in.Reset();
  EXPECT_EQ(in.count(), 0u);
  in.Add(LogIndex(9));
  EXPECT_EQ(in.count(), 1u);
}

Progress Replicating(uint64_t match, uint64_t next, uint32_t window = 4) {
  Progress pr(window);
  pr.match = LogIndex(match);
  pr.BecomeReplicate();
  pr.next = LogIndex(next);
  return pr;
}

Progress Probing(uint64_t match, uint64_t next) {
  Progress pr(4);
  pr.match = LogIndex(match);
  pr.next = LogIndex(next);
  return pr;
}

TEST(Progress, MaybeUpdateIgnoresStaleAcks) {
  Progress pr = Probing(3, 6);
  pr.probe_sent = true;
  EXPECT_TRUE(pr.MaybeUpdate(LogIndex(4)));
  EXPECT_EQ(pr.match, LogIndex(4));
  EXPECT_EQ(pr.next, LogIndex(6));  // next never moves back
  EXPECT_FALSE(pr.probe_sent);
  EXPECT_FALSE(pr.MaybeUpdate(LogIndex(2)));
  EXPECT_EQ(pr.match, LogIndex(4));
  EXPECT_TRUE(pr.MaybeUpdate(LogIndex(9)));
  EXPECT_EQ(pr.next, LogIndex(10));
}

TEST(Progress, Section5_3_ReplicateRejectionFallsBackToMatch) {
  Progress pr = Replicating(5, 10);
  // A rejection at or below match predates the follower catching up.
  EXPECT_FALSE(pr.MaybeDecrTo(LogIndex(5), LogIndex(0)));
  EXPECT_FALSE(pr.MaybeDecrTo(LogIndex(3), LogIndex(0)));
  EXPECT_EQ(pr.next, LogIndex(10));
  // A fresh one sends next back to just after match; the hint is not needed there.
  EXPECT_TRUE(pr.MaybeDecrTo(LogIndex(8), LogIndex(2)));
  EXPECT_EQ(pr.next, LogIndex(6));
}

TEST(Progress, Section5_3_ProbeRejectionUsesTheHint) {
  Progress pr = Probing(0, 10);
  pr.probe_sent = true;
  // Only the rejection of the probe in flight (the entry before next) counts.
  EXPECT_FALSE(pr.MaybeDecrTo(LogIndex(7), LogIndex(3)));
  EXPECT_EQ(pr.next, LogIndex(10));
  EXPECT_TRUE(pr.MaybeDecrTo(LogIndex(9), LogIndex(3)));
  EXPECT_EQ(pr.next, LogIndex(4));
  EXPECT_FALSE(pr.probe_sent);
  // A hint beyond the rejected index cannot move next forward.
  EXPECT_TRUE(pr.MaybeDecrTo(LogIndex(3), LogIndex(8)));
  EXPECT_EQ(pr.next, LogIndex(3));
}

TEST(Progress, ProbeNeverGoesBelowMatch) {
  Progress pr = Probing(4, 8);
  EXPECT_TRUE(pr.MaybeDecrTo(LogIndex(7), LogIndex(1)));
  EXPECT_EQ(pr.next, LogIndex(5));
  Progress empty = Probing(0, 2);
  EXPECT_TRUE(empty.MaybeDecrTo(LogIndex(1), LogIndex(0)));
  EXPECT_EQ(empty.next, LogIndex(1));
}

TEST(Progress, IsPaused) {
  Progress probe = Probing(0, 1);
  EXPECT_FALSE(probe.IsPaused());
  probe.probe_sent = true;
  EXPECT_TRUE(probe.IsPaused());

  Progress rep = Replicating(1, 2, /*window=*/2);
  rep.inflights.Add(LogIndex(2));
  EXPECT_FALSE(rep.IsPaused());
  rep.inflights.Add(LogIndex(3));
  EXPECT_TRUE(rep.IsPaused());
  rep.inflights.FreeLE(LogIndex(2));
  EXPECT_FALSE(rep.IsPaused());

  Progress snap = Probing(0, 1);
  snap.BecomeSnapshot(LogIndex(10));
  EXPECT_TRUE(snap.IsPaused());  // until the snapshot is answered
}

TEST(Progress, StateTransitionsResetTheWindow) {
  Progress pr = Replicating(3, 9, 2);
  pr.inflights.Add(LogIndex(7));
  pr.BecomeProbe();
  EXPECT_EQ(pr.state, ProgressState::kProbe);
  EXPECT_EQ(pr.next, LogIndex(4));
  EXPECT_EQ(pr.inflights.count(), 0u);

  pr.BecomeSnapshot(LogIndex(20));
  EXPECT_EQ(pr.state, ProgressState::kSnapshot);
  EXPECT_EQ(pr.pending_snapshot, LogIndex(20));
  // Leaving snapshot state resumes after the snapshot, even if no ack raised match yet.
  pr.BecomeProbe();
  EXPECT_EQ(pr.next, LogIndex(21));
  EXPECT_EQ(pr.pending_snapshot, LogIndex(0));

  pr.match = LogIndex(25);
  pr.BecomeReplicate();
  EXPECT_EQ(pr.state, ProgressState::kReplicate);
  EXPECT_EQ(pr.next, LogIndex(26));
}

TEST(TrackerConfig, ToConfStateAndLearners) {
  TrackerConfig cfg;
  cfg.voters.incoming = MajorityConfig({NodeId(3), NodeId(1), NodeId(2)});
  cfg.voters.outgoing = MajorityConfig({NodeId(1), NodeId(2), NodeId(4)});
  cfg.learners = {NodeId(5)};
  cfg.learners_next = {NodeId(4)};
  cfg.auto_leave = true;
  const ConfState cs = cfg.ToConfState();
  EXPECT_EQ(cs.voters, (std::vector<NodeId>{NodeId(1), NodeId(2), NodeId(3)}));
  EXPECT_EQ(cs.voters_outgoing, (std::vector<NodeId>{NodeId(1), NodeId(2), NodeId(4)}));
  EXPECT_EQ(cs.learners, (std::vector<NodeId>{NodeId(5)}));
  EXPECT_EQ(cs.learners_next, (std::vector<NodeId>{NodeId(4)}));
  EXPECT_TRUE(cs.auto_leave);
  EXPECT_TRUE(cfg.IsLearner(NodeId(5)));
  // A voter being demoted keeps voting in the outgoing half until the joint config is left.
  EXPECT_FALSE(cfg.IsLearner(NodeId(4)));
}

}  // namespace
}  // namespace synod::raft
