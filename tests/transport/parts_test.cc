// The transport's pure parts: peer queue bounds and order, fault point decisions, addresses.
#include <gtest/gtest.h>

#include <vector>

#include "test_messages.h"
#include "transport/address.h"
#include "transport/fault_points.h"
#include "transport/peer_queue.h"

namespace synod::transport {
namespace {

using namespace std::chrono_literals;
using test::MakeAppend;
using test::MakeSnapshot;

const raft::NodeId kA(1), kB(2);

TEST(PeerQueue, BoundsMessages) {
  PeerQueue q(3, 1 << 20);
  const Clock::time_point t0{};
  for (uint64_t i = 0; i < 3; ++i) EXPECT_TRUE(q.Push(MakeAppend(kA, kB, i), t0));
  EXPECT_FALSE(q.Push(MakeAppend(kA, kB, 3), t0));
  EXPECT_EQ(q.msgs(), 3u);
}

TEST(PeerQueue, BoundsBytesAndAllowsOneSnapshot) {
  const size_t one = MessageBytes(MakeAppend(kA, kB, 0, 10, 100));
  PeerQueue q(100, 2 * one);
  const Clock::time_point t0{};
  EXPECT_TRUE(q.Push(MakeAppend(kA, kB, 0, 10, 100), t0));
  EXPECT_TRUE(q.Push(MakeAppend(kA, kB, 1, 10, 100), t0));
  EXPECT_FALSE(q.Push(MakeAppend(kA, kB, 2, 10, 100), t0));
  // A snapshot's image is shared, not copied: it does not count against the bytes...
  EXPECT_TRUE(q.Push(MakeSnapshot(kA, kB, 10 * one), t0));
  // ...but only one may wait.
  EXPECT_FALSE(q.Push(MakeSnapshot(kA, kB, 10), t0));
  std::vector<raft::Message> out = q.TakeAll();
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_TRUE(q.Push(MakeSnapshot(kA, kB, 10), t0));
}

TEST(PeerQueue, ReleasesInOrderWhenDue) {
  PeerQueue q(100, 1 << 20);
  const Clock::time_point t0{};
  ASSERT_TRUE(q.Push(MakeAppend(kA, kB, 0), t0 + 10ms));
  ASSERT_TRUE(q.Push(MakeAppend(kA, kB, 1), t0 + 5ms));  // may not overtake the first
  ASSERT_TRUE(q.Push(MakeAppend(kA, kB, 2), t0 + 20ms));
  std::vector<raft::Message> out;
  EXPECT_EQ(q.TakeDue(t0 + 5ms, &out), t0 + 10ms);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(q.TakeDue(t0 + 10ms, &out), t0 + 20ms);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].index, raft::LogIndex(0));
  EXPECT_EQ(out[1].index, raft::LogIndex(1));
  EXPECT_EQ(q.TakeDue(t0 + 1s, &out), std::nullopt);
  EXPECT_EQ(out.size(), 3u);
}

std::vector<PeerFaults::Decision> Decisions(uint64_t seed, raft::NodeId peer, const FaultConfig& c,
                                            int n) {
  PeerFaults f(seed, peer);
  f.Set(c);
  std::vector<PeerFaults::Decision> out;
  for (int i = 0; i < n; ++i) out.push_back(f.NextOutgoing());
  return out;
}

TEST(FaultPoints, OffMeansNothing) {
  for (const auto& d : Decisions(1, kB, FaultConfig{}, 100)) {
    EXPECT_FALSE(d.drop);
    EXPECT_EQ(d.delay, 0us);
  }
}

TEST(FaultPoints, DropIsDeterministicPerSeedAndPeer) {
  const FaultConfig c{.drop_probability = 0.3};
  const auto a = Decisions(42, kB, c, 2000);
  const auto b = Decisions(42, kB, c, 2000);
  const auto other_seed = Decisions(43, kB, c, 2000);
  const auto other_peer = Decisions(42, raft::NodeId(3), c, 2000);
  int drops = 0, same_seed_diff = 0, seed_diff = 0, peer_diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    drops += a[i].drop;
    same_seed_diff += a[i].drop != b[i].drop;
    seed_diff += a[i].drop != other_seed[i].drop;
    peer_diff += a[i].drop != other_peer[i].drop;
  }
  EXPECT_EQ(same_seed_diff, 0);
  EXPECT_GT(seed_diff, 0);
  EXPECT_GT(peer_diff, 0);
  EXPECT_NEAR(drops, 600, 100);
}

TEST(FaultPoints, AllOrNothingDrops) {
  for (const auto& d : Decisions(5, kB, FaultConfig{.drop_probability = 1}, 500)) {
    EXPECT_TRUE(d.drop);
  }
  for (const auto& d : Decisions(5, kB, FaultConfig{.blocked = true}, 50)) EXPECT_TRUE(d.drop);
}

TEST(FaultPoints, DelayPlusJitterStaysInRange) {
  const FaultConfig c{.delay = 1000us, .jitter = 500us};
  bool varied = false;
  const auto ds = Decisions(9, kB, c, 500);
  for (const auto& d : ds) {
    EXPECT_FALSE(d.drop);
    EXPECT_GE(d.delay, 1000us);
    EXPECT_LE(d.delay, 1500us);
    varied |= d.delay != ds[0].delay;
  }
  EXPECT_TRUE(varied);
}

TEST(Address, Parses) {
  auto a = ParseHostPort("127.0.0.1:2380");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().host, "127.0.0.1");
  EXPECT_EQ(a.value().port, 2380);
  a = ParseHostPort("http://node-1.example:12380");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().host, "node-1.example");
  EXPECT_EQ(a.value().port, 12380);
  a = ParseHostPort("[::1]:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().host, "::1");
  EXPECT_EQ(a.value().port, 0);
  for (const char* bad : {"", "host", ":80", "host:", "host:99999", "host:8x", "::1:80"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace synod::transport
