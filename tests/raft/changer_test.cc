// Membership change rules (changer.h): single-server changes (thesis §4.1), joint consensus
// (Raft §6, thesis §4.3), learners and demotion through learners_next.
#include <gtest/gtest.h>

#include "raft/changer.h"

namespace synod::raft {
namespace {

std::vector<NodeId> Ids(std::initializer_list<uint64_t> ids) {
  std::vector<NodeId> out;
  for (uint64_t id : ids) out.emplace_back(id);
  return out;
}

TrackerConfig Voters(std::initializer_list<uint64_t> ids) {
  ConfState cs;
  cs.voters = Ids(ids);
  return TrackerConfigFrom(cs);
}

ConfChangeSingle V(uint64_t id) { return {ConfChangeType::kAddVoter, NodeId(id)}; }
ConfChangeSingle L(uint64_t id) { return {ConfChangeType::kAddLearner, NodeId(id)}; }
ConfChangeSingle R(uint64_t id) { return {ConfChangeType::kRemoveNode, NodeId(id)}; }

ConfChange Change(std::vector<ConfChangeSingle> changes,
                  ConfChangeTransition t = ConfChangeTransition::kAuto) {
  return ConfChange{t, std::move(changes)};
}

ConfState Apply(const TrackerConfig& cfg, const ConfChange& cc) {
  auto r = ApplyConfChangeTo(cfg, cc);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r.value().ToConfState() : ConfState{};
}

TEST(Changer, Thesis4_1_SimpleChanges) {
  const TrackerConfig cfg = Voters({1, 2, 3});
  ConfState cs = Apply(cfg, Change({V(4)}));
  EXPECT_EQ(cs.voters, Ids({1, 2, 3, 4}));
  EXPECT_TRUE(cs.voters_outgoing.empty());
  cs = Apply(cfg, Change({R(2)}));
  EXPECT_EQ(cs.voters, Ids({1, 3}));
  cs = Apply(cfg, Change({L(4)}));
  EXPECT_EQ(cs.voters, Ids({1, 2, 3}));
  EXPECT_EQ(cs.learners, Ids({4}));
  // Changes that touch no voter are fine too.
  cs = Apply(cfg, Change({R(9)}));
  EXPECT_EQ(cs.voters, Ids({1, 2, 3}));
  cs = Apply(cfg, Change({V(2)}));
  EXPECT_EQ(cs.voters, Ids({1, 2, 3}));
}

TEST(Changer, Thesis4_2_1_LearnerPromotionAndDemotion) {
  ConfState start;
  start.voters = Ids({1, 2, 3});
  start.learners = Ids({4});
  const TrackerConfig cfg = TrackerConfigFrom(start);
  ConfState cs = Apply(cfg, Change({V(4)}));
  EXPECT_EQ(cs.voters, Ids({1, 2, 3, 4}));
  EXPECT_TRUE(cs.learners.empty());
  // Outside a joint config a voter becomes a learner at once: one voter less.
  cs = Apply(cfg, Change({L(3)}));
  EXPECT_EQ(cs.voters, Ids({1, 2}));
  EXPECT_EQ(cs.learners, Ids({3, 4}));
  cs = Apply(cfg, Change({R(4)}));
  EXPECT_TRUE(cs.learners.empty());
}

TEST(Changer, Thesis4_3_EnterJointWithSeveralChanges) {
  const ConfState cs = Apply(Voters({1, 2, 3}), Change({V(4), V(5), R(3)}));
  EXPECT_EQ(cs.voters, Ids({1, 2, 4, 5}));
  EXPECT_EQ(cs.voters_outgoing, Ids({1, 2, 3}));
  EXPECT_TRUE(cs.auto_leave);
}

TEST(Changer, Thesis4_3_ExplicitAndImplicitTransitions) {
  ConfState cs =
      Apply(Voters({1, 2, 3}), Change({V(4)}, ConfChangeTransition::kJointExplicit));
  EXPECT_EQ(cs.voters_outgoing, Ids({1, 2, 3}));  // joint even for one change
  EXPECT_FALSE(cs.auto_leave);
  cs = Apply(Voters({1, 2, 3}), Change({V(4)}, ConfChangeTransition::kJointImplicit));
  EXPECT_EQ(cs.voters_outgoing, Ids({1, 2, 3}));
  EXPECT_TRUE(cs.auto_leave);
}

TEST(Changer, Thesis4_3_LeaveJoint) {
  auto joint = ApplyConfChangeTo(Voters({1, 2, 3}), Change({V(4), R(1)}));
  ASSERT_TRUE(joint.ok());
  const ConfState cs = Apply(joint.value(), Change({}));
  EXPECT_EQ(cs.voters, Ids({2, 3, 4}));
  EXPECT_TRUE(cs.voters_outgoing.empty());
  EXPECT_FALSE(cs.auto_leave);
}

TEST(Changer, DemotionInAJointConfigWaitsInLearnersNext) {
  ConfState start;
  start.voters = Ids({1, 2, 3});
  start.learners = Ids({5});
  auto joint = ApplyConfChangeTo(TrackerConfigFrom(start), Change({L(3), V(4)}));
  ASSERT_TRUE(joint.ok());
  ConfState cs = joint.value().ToConfState();
  EXPECT_EQ(cs.voters, Ids({1, 2, 4}));
  EXPECT_EQ(cs.voters_outgoing, Ids({1, 2, 3}));
  // 3 still votes in the outgoing half, so it is not a learner yet.
  EXPECT_EQ(cs.learners, Ids({5}));
  EXPECT_EQ(cs.learners_next, Ids({3}));
  EXPECT_FALSE(joint.value().IsLearner(NodeId(3)));

  cs = Apply(joint.value(), Change({}));
  EXPECT_EQ(cs.voters, Ids({1, 2, 4}));
  EXPECT_EQ(cs.learners, Ids({3, 5}));
  EXPECT_TRUE(cs.learners_next.empty());
}

TEST(Changer, RemovingADemotedVoterInTheSameChangeDropsItEntirely) {
  auto joint = ApplyConfChangeTo(Voters({1, 2, 3}), Change({L(3), R(3)}));
  ASSERT_TRUE(joint.ok());
  EXPECT_TRUE(joint.value().learners_next.empty());
  const ConfState cs = Apply(joint.value(), Change({}));
  EXPECT_EQ(cs.voters, Ids({1, 2}));
  EXPECT_TRUE(cs.learners.empty());
}

TEST(Changer, InvalidChanges) {
  const TrackerConfig cfg = Voters({1, 2, 3});
  auto code = [](const Result<TrackerConfig>& r) {
    return r.ok() ? ErrorCode::kOk : r.status().code();
  };
  // Nothing to leave.
  EXPECT_EQ(code(ApplyConfChangeTo(cfg, Change({}))), ErrorCode::kInvalidArgument);
  // No change may leave the group without voters, joint or simple.
  EXPECT_EQ(code(ApplyConfChangeTo(Voters({1}), Change({R(1)}))), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(ApplyConfChangeTo(cfg, Change({R(1), R(2), R(3)}))),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(ApplyConfChangeTo(Voters({1}), Change({L(1)}))), ErrorCode::kInvalidArgument);
  // Node 0 means "none".
  EXPECT_EQ(code(ApplyConfChangeTo(cfg, Change({V(0)}))), ErrorCode::kInvalidArgument);
  // One joint config at a time.
  auto joint = ApplyConfChangeTo(cfg, Change({V(4), V(5)}));
  ASSERT_TRUE(joint.ok());
  EXPECT_EQ(code(ApplyConfChangeTo(joint.value(), Change({V(6)}))),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(ApplyConfChangeTo(joint.value(), Change({V(6), V(7)}))),
            ErrorCode::kInvalidArgument);
  // The rejected change left the input alone.
  EXPECT_EQ(cfg.ToConfState().voters, Ids({1, 2, 3}));
}

TEST(Changer, TrackerConfigFromNormalizesTheConfState) {
  ConfState cs;
  cs.voters = Ids({3, 1, 2, 1});
  cs.learners = Ids({5, 4});
  cs.voters_outgoing = Ids({2, 1});
  cs.learners_next = Ids({3});
  cs.auto_leave = true;
  const ConfState back = TrackerConfigFrom(cs).ToConfState();
  EXPECT_EQ(back.voters, Ids({1, 2, 3}));
  EXPECT_EQ(back.learners, Ids({4, 5}));
  EXPECT_EQ(back.voters_outgoing, Ids({1, 2}));
  EXPECT_EQ(back.learners_next, Ids({3}));
  EXPECT_TRUE(back.auto_leave);
}

}  // namespace
}  // namespace synod::raft
