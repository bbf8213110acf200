// CI-sized runs of the gossip simulator: the targets of docs/membership.md at a small scale,
// plus determinism. The full-scale figures come from tools/synod-gossip-sim.
#include <gtest/gtest.h>

#include "gossip/sim/scenarios.h"

namespace synod::gossip::sim {
namespace {

TEST(GossipSim, SameSeedSameRun) {
  WorldOptions o;
  o.nodes = 50;
  o.loss = 0.05;
  o.seed = 11;
  const auto a = MeasureDetection(o, 100, 20);
  const auto b = MeasureDetection(o, 100, 20);
  EXPECT_EQ(a.false_suspect_events, b.false_suspect_events);
  EXPECT_EQ(a.all_dead_periods.median, b.all_dead_periods.median);
  EXPECT_EQ(a.messages_per_member_per_period, b.messages_per_member_per_period);
}

// 200 members, 5% loss, 300 periods: crashes detected within 5 periods at median (everyone
// has the member dead), no healthy member ever declared dead.
TEST(GossipSim, DetectionAndNoFalsePositivesAtFivePercentLoss) {
  WorldOptions o;
  o.nodes = 200;
  o.loss = 0.05;
  o.seed = 3;
  const auto r = MeasureDetection(o, 300, 25);
  EXPECT_EQ(r.undetected, 0u);
  EXPECT_GE(r.all_dead_periods.count, 10u);
  EXPECT_LE(r.all_dead_periods.median, 5.0);
  EXPECT_EQ(r.healthy_declared_dead, 0u);
  EXPECT_GT(r.false_suspect_events, 0u);  // suspicions happened and were refuted
}

// Dissemination grows with log n, and messages per member per period stay flat.
TEST(GossipSim, DisseminationLogarithmicCostConstant) {
  WorldOptions o;
  o.seed = 5;
  o.nodes = 50;
  const auto small = MeasureDissemination(o, 8);
  o.nodes = 800;
  const auto big = MeasureDissemination(o, 8);
  EXPECT_EQ(small.unfinished + big.unfinished, 0u);
  // 16 times the members: a log curve adds a few rounds, a linear one would multiply them.
  EXPECT_LT(big.rounds.median, small.rounds.median * 2.5);
  EXPECT_GT(big.rounds.median, small.rounds.median);
  EXPECT_LT(big.messages_per_member_per_period, small.messages_per_member_per_period * 1.5);
}

}  // namespace
}  // namespace synod::gossip::sim
