#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace synod::sim {
namespace {

TEST(EventQueue, RunsByTimeThenBySchedulingOrder) {
  EventQueue q(100);
  std::vector<int> order;
  q.At(20, [&] { order.push_back(3); });
  q.At(10, [&] { order.push_back(1); });
  q.At(10, [&] { order.push_back(2); });  // same time: after the one scheduled first
  q.At(30, [&] { order.push_back(4); });
  while (q.RunOne()) {
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(q.now(), 30);
  EXPECT_EQ(q.events_run(), 4u);
}

TEST(EventQueue, EventsScheduleMoreEventsRelativeToNow) {
  EventQueue q(100);
  std::vector<Micros> times;
  q.At(5, [&] {
    times.push_back(q.now());
    q.After(7, [&] { times.push_back(q.now()); });
    q.After(0, [&] { times.push_back(q.now()); });
  });
  while (q.RunOne()) {
  }
  EXPECT_EQ(times, (std::vector<Micros>{5, 5, 12}));
  EXPECT_FALSE(q.RunOne());
}

TEST(EventQueueDeathTest, RefusesThePastAndOverflow) {
  EventQueue q(2);
  q.At(10, [] {});
  ASSERT_TRUE(q.RunOne());
  EXPECT_DEATH(q.At(5, [] {}), "past");
  q.At(11, [] {});
  q.At(12, [] {});
  EXPECT_DEATH(q.At(13, [] {}), "overflow");
}

}  // namespace
}  // namespace synod::sim
