// The phi accrual detector (Hayashibara et al. 2004, §3): phi from a normal distribution fitted
// to the window of inter-arrival times.
#include "gossip/phi_accrual.h"

#include <gtest/gtest.h>

#include <cmath>

namespace synod::gossip {
namespace {

TEST(PhiAccrual, PhiOfMatchesTheNormalTail) {
  // At the mean, half the heartbeats are still to come: phi = -log10(0.5).
  EXPECT_NEAR(PhiOf(100, 100, 10), -std::log10(0.5), 1e-9);
  // Two standard deviations late: P(later) = 0.02275.
  EXPECT_NEAR(PhiOf(120, 100, 10), -std::log10(0.0227501), 1e-4);
  // Far out in the tail phi keeps growing and stays finite.
  EXPECT_GT(PhiOf(300, 100, 10), 50);
  EXPECT_LE(PhiOf(1e9, 100, 10), 300);
}

TEST(PhiAccrual, ZeroBeforeTheFirstHeartbeat) {
  PhiAccrualDetector d(PhiAccrualOptions{});
  EXPECT_EQ(d.Phi(1000), 0);
  EXPECT_TRUE(d.Available(1000));
}

TEST(PhiAccrual, FitsTheWindowAndRisesWithSilence) {
  PhiAccrualOptions o;
  o.std_dev_min = 1;
  PhiAccrualDetector d(o);
  // Heartbeats every 100 +- 10.
  double t = 0;
  for (int i = 0; i < 50; ++i) {
    t += (i % 2 == 0) ? 90 : 110;
    d.Heartbeat(t);
  }
  EXPECT_EQ(d.samples(), 49u);
  EXPECT_NEAR(d.mean(), 100, 0.5);
  EXPECT_NEAR(d.std_dev(), 10, 0.5);
  const double on_time = d.Phi(t + 100);
  const double late = d.Phi(t + 130);
  const double very_late = d.Phi(t + 200);
  EXPECT_LT(on_time, 1);
  EXPECT_GT(late, 2);
  EXPECT_LT(late, very_late);
  EXPECT_TRUE(d.Available(t + 100));
  EXPECT_FALSE(d.Available(t + 200));  // threshold 8
}

TEST(PhiAccrual, WindowForgetsOldSamples) {
  PhiAccrualOptions o;
  o.window_samples_max = 10;
  o.std_dev_min = 1;
  PhiAccrualDetector d(o);
  double t = 0;
  for (int i = 0; i < 20; ++i) d.Heartbeat(t += 1000);  // slow era
  for (int i = 0; i < 10; ++i) d.Heartbeat(t += 100);   // fast era fills the window
  EXPECT_EQ(d.samples(), 10u);
  EXPECT_NEAR(d.mean(), 100, 1e-9);
  // 500 of silence is now very suspicious, though it was routine in the slow era.
  EXPECT_FALSE(d.Available(t + 500));
}

TEST(PhiAccrual, StdDevFloorAndAcceptablePause) {
  PhiAccrualOptions o;
  o.std_dev_min = 20;
  o.acceptable_pause = 200;
  PhiAccrualDetector d(o);
  double t = 0;
  for (int i = 0; i < 10; ++i) d.Heartbeat(t += 100);  // perfectly regular
  EXPECT_EQ(d.std_dev(), 20);
  // A pause within the acceptable one is not suspicious.
  EXPECT_LT(d.Phi(t + 250), 1);
  EXPECT_FALSE(d.Available(t + 500));
}

}  // namespace
}  // namespace synod::gossip
