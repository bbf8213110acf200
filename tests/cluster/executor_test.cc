// server::Executor: every submitted task runs once, and a burst submitted at once (which wakes
// only one worker) still spreads over the workers, so one long task does not hold up the rest.
#include "server/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace synod::server {
namespace {

using namespace std::chrono_literals;

TEST(Executor, RunsEveryTaskOfABurstOnce) {
  std::atomic<int> ran{0};
  {
    Executor e(4, 10000);
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(e.Submit([&] { ran.fetch_add(1); }));
    e.Stop();
  }
  EXPECT_EQ(ran.load(), 5000);
}

TEST(Executor, TasksBehindABlockedOneRunOnAnotherWorker) {
  // Whether the second worker wakes for the burst depends on how fast the first one takes the
  // blocking task, so the check is repeated: without the hand-over in Work() some round leaves
  // the quick tasks queued behind the blocked worker.
  Executor e(2, 100);
  for (int round = 0; round < 50; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Both workers asleep first: a worker just started takes queued work without any wakeup.
    std::this_thread::sleep_for(5ms);
    std::mutex mu;
    std::condition_variable cv;
    bool release = false;
    std::atomic<int> quick_done{0};
    std::atomic<bool> blocker_done{false};
    // The blocking task and the quick ones arrive as one burst.
    ASSERT_TRUE(e.Submit([&] {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return release; });
      }
      blocker_done.store(true);
    }));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(e.Submit([&] { quick_done.fetch_add(1); }));
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (quick_done.load() < 10 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100us);
    }
    EXPECT_EQ(quick_done.load(), 10) << "tasks waited behind the blocked one";
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    // mu and cv end with this round: the blocked task must be done with them first.
    while (!blocker_done.load()) std::this_thread::sleep_for(100us);
    if (HasFailure()) break;
  }
  e.Stop();
}

TEST(Executor, RefusesBeyondItsQueueAndAfterStop) {
  Executor e(1, 2);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false, started = false;
  ASSERT_TRUE(e.Submit([&] {
    std::unique_lock lock(mu);
    started = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  }));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return started; }));
  }
  EXPECT_TRUE(e.Submit([] {}));
  EXPECT_TRUE(e.Submit([] {}));
  EXPECT_FALSE(e.Submit([] {}));  // two queued: the queue is full
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  e.Stop();
  EXPECT_FALSE(e.Submit([] {}));
}

}  // namespace
}  // namespace synod::server
