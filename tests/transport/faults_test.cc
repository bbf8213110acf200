// Fault points over real sockets, and the bounded queue's overflow feedback.
#include <gtest/gtest.h>

#include <set>

#include "harness.h"

namespace synod::transport {
namespace {

using namespace std::chrono_literals;
using test::ExpectSequence;
using test::MakeAppend;
using test::MakeSnapshot;
using test::SendSequence;
using test::TestNode;

const raft::NodeId k1(1), k2(2);

class Faults : public ::testing::Test {
 protected:
  Faults() : a_(k1), b_(k2) {}
  explicit Faults(TransportOptions oa) : a_(std::move(oa)), b_(k2) {}
  void SetUp() override {
    a_.Start();
    b_.Start();
    a_.Connect(b_);
    b_.Connect(a_);
  }
  // Everything sent before a marker has arrived (or was dropped) once the marker arrives:
  // a link keeps order. This proves absence without waiting for a timeout.
  void SendMarkerAndWait(TestNode& from, TestNode& to, uint64_t marker) {
    from.transport().Send({MakeAppend(from.id(), to.id(), marker)});
    ASSERT_TRUE(to.WaitFor([&] {
      auto got = to.Received(from.id());
      return !got.empty() && got.back().index == raft::LogIndex(marker);
    }));
  }
  TestNode a_, b_;
};

TEST_F(Faults, DropAllDropsEverything) {
  a_.transport().SetFaults(k2, FaultConfig{.drop_probability = 1.0});
  SendSequence(a_, k2, 1, 1000);
  a_.transport().Send({MakeSnapshot(k1, k2, 100)});
  a_.transport().ClearFaults();
  SendMarkerAndWait(a_, b_, 99999);
  EXPECT_EQ(b_.ReceivedCount(k1), 1u);  // the marker only
  EXPECT_EQ(a_.Metrics(k2).msgs_dropped_fault, 1001u);
  // Loss is silent, but a dropped snapshot is still reported so Raft can retry it.
  EXPECT_EQ(a_.Unreachable(k2), 0u);
  ASSERT_TRUE(a_.WaitFor([&] { return !a_.SnapshotStatus().empty(); }));
  EXPECT_EQ(a_.SnapshotStatus()[0], std::make_pair(k2, false));
}

TEST_F(Faults, PartialDropFollowsTheSeed) {
  const FaultConfig config{.drop_probability = 0.3};
  a_.transport().SetFaults(k2, config);
  constexpr size_t kCount = 2000;
  SendSequence(a_, k2, 1, kCount);
  a_.transport().ClearFaults();
  SendMarkerAndWait(a_, b_, 99999);
  // The same seed and peer predict exactly which messages survive.
  PeerFaults predict(test::TestOptions(k1).fault_seed, k2);
  predict.Set(config);
  std::vector<raft::LogIndex> expected;
  for (uint64_t i = 1; i <= kCount; ++i) {
    if (!predict.NextOutgoing().drop) expected.emplace_back(i);
  }
  expected.emplace_back(99999);
  std::vector<raft::LogIndex> got;
  for (const raft::Message& m : b_.Received(k1)) got.push_back(m.index);
  EXPECT_EQ(got, expected);
  EXPECT_NEAR(static_cast<double>(kCount + 1 - got.size()), 0.3 * kCount, 0.05 * kCount);
}

TEST_F(Faults, DelayIsApplied) {
  a_.transport().SetFaults(k2, FaultConfig{.delay = 150ms});
  const auto start = std::chrono::steady_clock::now();
  a_.transport().Send({MakeAppend(k1, k2, 1)});
  ASSERT_TRUE(b_.WaitReceived(k1, 1));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  // The other direction is untouched.
  const auto back = std::chrono::steady_clock::now();
  b_.transport().Send({MakeAppend(k2, k1, 1)});
  ASSERT_TRUE(a_.WaitReceived(k2, 1));
  EXPECT_LT(std::chrono::steady_clock::now() - back, 150ms);
}

TEST_F(Faults, JitterKeepsOrder) {
  a_.transport().SetFaults(k2, FaultConfig{.delay = 1ms, .jitter = 20ms});
  SendSequence(a_, k2, 1, 300);
  ASSERT_TRUE(b_.WaitReceived(k1, 300));
  ExpectSequence(b_.Received(k1), 1, 300);
}

TEST_F(Faults, BlockCutsBothDirectionsAndHealsAtOnce) {
  a_.transport().SetFaults(k2, FaultConfig{.blocked = true});
  SendSequence(a_, k2, 1, 100);  // dropped at a
  SendSequence(b_, k1, 1, 100);  // discarded when a receives them
  ASSERT_TRUE(a_.WaitFor([&] { return a_.Metrics(k2).msgs_discarded_fault == 100; }));
  EXPECT_EQ(a_.ReceivedCount(k2), 0u);
  a_.transport().ClearFaults();
  SendMarkerAndWait(a_, b_, 500);
  SendMarkerAndWait(b_, a_, 500);
  EXPECT_EQ(b_.ReceivedCount(k1), 1u);
  EXPECT_EQ(a_.ReceivedCount(k2), 1u);
  EXPECT_EQ(a_.Metrics(k2).msgs_dropped_fault, 100u);
  EXPECT_EQ(a_.Metrics(k2).link_failures, 0u);  // no reconnect was needed
}

class Overflow : public Faults {
 protected:
  static TransportOptions Small() {
    TransportOptions o = test::TestOptions(k1);
    o.peer_queue_msgs_max = 10;
    o.peer_queue_bytes_max = 64 * 1024;
    return o;
  }
  Overflow() : Faults(Small()) {}
};

TEST_F(Overflow, FullQueueDropsAndReportsUnreachable) {
  // A long delay holds messages in the queue, so it fills deterministically.
  a_.transport().SetFaults(k2, FaultConfig{.delay = 10s});
  SendSequence(a_, k2, 1, 50);
  ASSERT_TRUE(a_.WaitFor([&] { return a_.Unreachable(k2) >= 1; }));
  const PeerMetrics m = a_.Metrics(k2);
  EXPECT_EQ(m.msgs_dropped_overflow, 40u);
  EXPECT_EQ(m.queue_msgs, 10u);
}

TEST_F(Overflow, QueueBytesAreBounded) {
  a_.transport().SetFaults(k2, FaultConfig{.delay = 10s});
  // About 20 KiB each: three fit in 64 KiB, the next two do not.
  std::vector<raft::Message> big;
  for (uint64_t i = 1; i <= 5; ++i) big.push_back(MakeAppend(k1, k2, i, 10, 2000));
  a_.transport().Send(std::move(big));
  ASSERT_TRUE(a_.WaitFor([&] { return a_.Unreachable(k2) >= 1; }));
  EXPECT_EQ(a_.Metrics(k2).msgs_dropped_overflow, 2u);
  EXPECT_EQ(a_.Metrics(k2).queue_msgs, 3u);
  EXPECT_LE(a_.Metrics(k2).queue_bytes, 64u * 1024);
}

}  // namespace
}  // namespace synod::transport
