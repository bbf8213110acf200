#include "sim/clock.h"

#include <gtest/gtest.h>

namespace synod::sim {
namespace {

TEST(LocalClock, DriftsAtItsRate) {
  const LocalClock fast(/*offset_us=*/500, /*drift_ppm=*/200);
  const LocalClock slow(0, -200);
  EXPECT_EQ(fast.Now(0), 500);
  EXPECT_EQ(fast.Now(10 * kSecond), 500 + 10 * kSecond + 2000);  // 200 us per second
  EXPECT_EQ(slow.Now(10 * kSecond), 10 * kSecond - 2000);
}

TEST(LocalClock, SimTimeWhenInvertsNow) {
  for (int64_t ppm : {-200, -37, 0, 1, 150, 200}) {
    const LocalClock c(12345, ppm);
    for (Micros local : {Micros{20000}, Micros{1'000'003}, 7 * kSecond + 11}) {
      const Micros t = c.SimTimeWhen(local, 0);
      EXPECT_GE(c.Now(t), local) << ppm;
      EXPECT_LT(c.Now(t - 1), local) << ppm;  // the earliest such time
    }
    EXPECT_EQ(c.SimTimeWhen(0, 99), 99);  // already past: not before `not_before`
  }
}

TEST(LocalClock, JumpsOnlyForward) {
  LocalClock c(0, 0);
  c.JumpForward(kSecond);
  EXPECT_EQ(c.Now(0), kSecond);
  EXPECT_EQ(c.jumped_us(), kSecond);
}

TEST(LocalClockDeathTest, NeverBackward) {
  LocalClock c(0, 0);
  EXPECT_DEATH(c.JumpForward(-1), "monotonic");
}

TEST(TickSchedule, OneTickPerIntervalOfLocalTime) {
  TickSchedule t(10 * kMillis);
  t.Restart(25 * kMillis);  // a fresh process owes nothing
  EXPECT_EQ(t.Due(25 * kMillis), 0u);
  EXPECT_EQ(t.NextTickLocal(), 30 * kMillis);
  EXPECT_EQ(t.Due(30 * kMillis), 1u);
  t.Consume(1);
  EXPECT_EQ(t.NextTickLocal(), 40 * kMillis);
}

TEST(TickSchedule, PausedProcessOwesEveryMissedTick) {
  // A process stopped for 1.234 s at a 10 ms tick owes 123 ticks when it runs again, and a
  // forward clock jump is indistinguishable from that.
  TickSchedule t(10 * kMillis);
  LocalClock c(0, 0);
  t.Restart(c.Now(0));
  EXPECT_EQ(t.Due(c.Now(1234 * kMillis)), 123u);
  c.JumpForward(500 * kMillis);
  EXPECT_EQ(t.Due(c.Now(1234 * kMillis)), 173u);
}

TEST(TickSchedule, DriftChangesTheTickRateSlightly) {
  const LocalClock fast(0, 200), slow(0, -200);
  TickSchedule a(10 * kMillis), b(10 * kMillis);
  a.Restart(0);
  b.Restart(0);
  // Over 100 s: 10,000 ticks, give or take 2 (200 ppm of 10,000).
  EXPECT_EQ(a.Due(fast.Now(100 * kSecond)), 10002u);
  EXPECT_EQ(b.Due(slow.Now(100 * kSecond)), 9998u);
}

}  // namespace
}  // namespace synod::sim
