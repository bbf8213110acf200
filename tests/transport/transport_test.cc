// Transports exchanging messages over loopback TCP: order, batching, reconnects, snapshots
// and the feedback Raft needs (unreachable, snapshot status).
#include <gtest/gtest.h>

#include <optional>

#include "harness.h"

namespace synod::transport {
namespace {

using namespace std::chrono_literals;
using test::ExpectSequence;
using test::MakeAppend;
using test::MakeSnapshot;
using test::SendSequence;
using test::TestNode;

const raft::NodeId k1(1), k2(2), k3(3);

TEST(Transport, TwoNodesExchangeThousandsInOrder) {
  TestNode a(k1), b(k2);
  a.Start();
  b.Start();
  a.Connect(b);
  b.Connect(a);
  constexpr size_t kCount = 5000;
  SendSequence(a, k2, 1, kCount, 3);
  SendSequence(b, k1, 1, kCount, 3);
  ASSERT_TRUE(b.WaitReceived(k1, kCount));
  ASSERT_TRUE(a.WaitReceived(k2, kCount));
  ExpectSequence(b.Received(k1), 1, kCount);
  ExpectSequence(a.Received(k2), 1, kCount);
  test::ExpectSameMessage(b.Received(k1)[17], MakeAppend(k1, k2, 18, 3));

  const PeerMetrics am = a.Metrics(k2);
  EXPECT_EQ(am.msgs_sent, kCount);
  EXPECT_EQ(am.msgs_received, kCount);
  EXPECT_EQ(am.msgs_dropped(), 0u);
  EXPECT_EQ(am.connects, 1u);
  EXPECT_TRUE(am.connected);
  EXPECT_EQ(b.Metrics(k1).bytes_received, am.bytes_sent);
  // Coalescing: far fewer deliveries than messages.
  EXPECT_LT(b.Batches(), kCount);
}

TEST(Transport, ThreeNodesAllPairsInOrder) {
  TestNode n1(k1), n2(k2), n3(k3);
  TestNode* nodes[] = {&n1, &n2, &n3};
  for (TestNode* n : nodes) n->Start();
  for (TestNode* from : nodes) {
    for (TestNode* to : nodes) {
      if (from != to) from->Connect(*to);
    }
  }
  constexpr size_t kCount = 3000;
  for (TestNode* from : nodes) {
    for (TestNode* to : nodes) {
      if (from != to) SendSequence(*from, to->id(), 100, kCount);
    }
  }
  for (TestNode* to : nodes) {
    for (TestNode* from : nodes) {
      if (from == to) continue;
      ASSERT_TRUE(to->WaitReceived(from->id(), kCount));
      ExpectSequence(to->Received(from->id()), 100, kCount);
    }
  }
}

TEST(Transport, ReconnectsAfterThePeerRestarts) {
  TestNode a(k1);
  auto b = std::make_unique<TestNode>(k2);
  a.Start();
  b->Start();
  const uint16_t b_port = b->port();
  a.Connect(*b);
  SendSequence(a, k2, 1, 10);
  ASSERT_TRUE(b->WaitReceived(k1, 10));

  b.reset();  // the process dies
  // The link notices the closed connection, reports the peer unreachable and backs off.
  ASSERT_TRUE(a.WaitFor([&] { return a.Metrics(k2).link_failures >= 1; }));
  ASSERT_TRUE(a.WaitFor([&] { return a.Unreachable(k2) >= 1; }));

  b = std::make_unique<TestNode>(k2);
  b->Start(b_port);  // same address, new process
  // Messages sent while the link is down are dropped (Raft resends); keep sending until the
  // reconnected link delivers.
  const auto deadline = std::chrono::steady_clock::now() + test::kWaitMax;
  uint64_t seq = 1000;
  while (b->ReceivedCount(k1) == 0 && std::chrono::steady_clock::now() < deadline) {
    a.transport().Send({MakeAppend(k1, k2, seq++)});
    b->WaitReceived(k1, 1, 20ms);
  }
  ASSERT_GE(b->ReceivedCount(k1), 1u);
  EXPECT_GE(a.Metrics(k2).connects, 2u);
  // Once up, the link is lossless again.
  SendSequence(a, k2, 5000, 500);
  ASSERT_TRUE(b->WaitFor([&] {
    auto got = b->Received(k1);
    return !got.empty() && got.back().index == raft::LogIndex(5499);
  }));
}

// A peer that comes back and dials us ends our link's backoff: with 5 s between attempts, a
// learns of b's return from b's handshake and reaches it long before the wait would end.
TEST(Transport, PeerThatConnectsEndsTheBackoff) {
  TransportOptions oa = test::TestOptions(k1);
  oa.backoff_initial = 5s;
  oa.backoff_max = 5s;
  TestNode a(oa);
  auto b = std::make_unique<TestNode>(k2);
  a.Start();
  b->Start();
  const uint16_t b_port = b->port();
  a.Connect(*b);
  ASSERT_TRUE(a.WaitFor([&] { return a.Metrics(k2).connected; }));
  b.reset();
  ASSERT_TRUE(a.WaitFor([&] { return a.Metrics(k2).link_failures >= 1; }));
  b = std::make_unique<TestNode>(k2);
  b->Start(b_port);
  const auto start = std::chrono::steady_clock::now();
  b->Connect(a);
  ASSERT_TRUE(a.WaitFor([&] { return a.Metrics(k2).connected; }, 3s))
      << "a waited for its backoff";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(a.Metrics(k2).connects, 2u);
}

TEST(Transport, BigSnapshotIsDeliveredAndReported) {
  TransportOptions oa = test::TestOptions(k1);
  oa.frame_bytes_max = 64 * 1024;  // the snapshot is far above the ordinary frame limit
  oa.snapshot_chunk_bytes = 16 * 1024;
  TransportOptions ob = test::TestOptions(k2);
  ob.frame_bytes_max = 64 * 1024;
  ob.snapshot_chunk_bytes = 16 * 1024;
  TestNode a(oa), b(ob);
  a.Start();
  b.Start();
  a.Connect(b);
  const raft::Message snap = MakeSnapshot(k1, k2, 3 << 20);
  a.transport().Send({MakeAppend(k1, k2, 1), snap, MakeAppend(k1, k2, 2)});
  ASSERT_TRUE(b.WaitReceived(k1, 3));
  const auto got = b.Received(k1);
  test::ExpectSameMessage(got[1], snap);
  EXPECT_EQ(got[2].index, raft::LogIndex(2));
  ASSERT_TRUE(a.WaitFor([&] { return !a.SnapshotStatus().empty(); }));
  EXPECT_EQ(a.SnapshotStatus()[0], std::make_pair(k2, true));
}

TEST(Transport, SnapshotAboveItsLimitFailsAndIsReported) {
  TransportOptions oa = test::TestOptions(k1);
  oa.frame_bytes_max = 64 * 1024;
  oa.snapshot_chunk_bytes = 16 * 1024;
  oa.snapshot_frame_bytes_max = 256 * 1024;
  TestNode a(oa), b(k2);
  a.Start();
  b.Start();
  a.Connect(b);
  a.transport().Send({MakeSnapshot(k1, k2, 1 << 20), MakeAppend(k1, k2, 7)});
  ASSERT_TRUE(a.WaitFor([&] { return !a.SnapshotStatus().empty(); }));
  EXPECT_EQ(a.SnapshotStatus()[0], std::make_pair(k2, false));
  EXPECT_EQ(a.Metrics(k2).msgs_dropped_oversized, 1u);
  ASSERT_TRUE(b.WaitReceived(k1, 1));  // the rest of the batch still goes
  EXPECT_EQ(b.Received(k1)[0].index, raft::LogIndex(7));
}

// Streamed: the image goes in 16 KiB chunks (no frame above 64 KiB), an append sent after the
// snapshot arrives before the snapshot completes (it went between chunks), and the delivered
// message equals the one sent.
TEST(Transport, StreamedSnapshotArrivesInChunksWithMessagesBetween) {
  TransportOptions oa = test::TestOptions(k1);
  oa.frame_bytes_max = 64 * 1024;
  oa.snapshot_frame_bytes_max = 64 * 1024;  // an inline 3 MiB image could not go at all
  oa.snapshot_chunk_bytes = 16 * 1024;
  TransportOptions ob = oa;
  ob.node_id = k2;
  TestNode a(oa, {.send = true}), b(ob, {.receive = true});
  a.Start();
  b.Start();
  a.Connect(b);
  const raft::Message snap = MakeSnapshot(k1, k2, 3 << 20);
  a.transport().Send({MakeAppend(k1, k2, 1), snap});
  a.transport().Send({MakeAppend(k1, k2, 2)});
  ASSERT_TRUE(b.WaitReceived(k1, 3));
  const auto got = b.Received(k1);
  EXPECT_EQ(got[0].index, raft::LogIndex(1));
  EXPECT_EQ(got[1].index, raft::LogIndex(2));
  test::ExpectSameMessage(got[2], snap);
  ASSERT_TRUE(a.WaitFor([&] { return !a.SnapshotStatus().empty(); }));
  EXPECT_EQ(a.SnapshotStatus()[0], std::make_pair(k2, true));
  EXPECT_EQ(a.Metrics(k2).msgs_sent, 3u);
  EXPECT_EQ(b.Metrics(k1).msgs_received, 3u);
  EXPECT_GT(b.Metrics(k1).bytes_received, uint64_t{3} << 20);
  EXPECT_EQ(b.Metrics(k1).bytes_received, a.Metrics(k2).bytes_sent);
  EXPECT_TRUE(b.WaitLog("received a snapshot of 3145728 bytes from node 1"));
}

// A receiver whose sink fails (disk full) or that has none reads the image to its end and
// drops it; the connection stays up and what follows is delivered.
TEST(Transport, StreamedSnapshotWithoutAPlaceToGoIsDroppedAndTheLinkStays) {
  for (const test::Streaming receiving : {test::Streaming{.receive = true, .sink_fails_at = 100000},
                                          test::Streaming{}}) {
    TransportOptions oa = test::TestOptions(k1);
    oa.snapshot_chunk_bytes = 32 * 1024;
    TestNode a(oa, {.send = true}), b(test::TestOptions(k2), receiving);
    a.Start();
    b.Start();
    a.Connect(b);
    a.transport().Send({MakeSnapshot(k1, k2, 1 << 20)});
    a.transport().Send({MakeAppend(k1, k2, 9)});
    ASSERT_TRUE(b.WaitLog(receiving.receive ? "disk full" : "no place to keep snapshots"));
    ASSERT_TRUE(a.WaitFor([&] { return !a.SnapshotStatus().empty(); }));
    a.transport().Send({MakeAppend(k1, k2, 10)});
    ASSERT_TRUE(b.WaitReceived(k1, 2));
    const auto got = b.Received(k1);
    EXPECT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].index, raft::LogIndex(9));
    EXPECT_EQ(got[1].index, raft::LogIndex(10));
    EXPECT_EQ(a.Metrics(k2).connects, 1u);
    EXPECT_EQ(b.transport().Metrics().inbound_rejected, 0u);
  }
}

TEST(Transport, PeerDownIsReportedUnreachableAndSnapshotsFail) {
  TestNode a(k1);
  a.Start();
  ASSERT_TRUE(a.transport().AddPeer(k3, "127.0.0.1:" + std::to_string(test::UnusedPort())).ok());
  ASSERT_TRUE(a.WaitFor([&] { return a.Unreachable(k3) >= 1; }));
  // While backing off, a snapshot is refused at once.
  ASSERT_TRUE(a.WaitFor([&] {
    a.transport().Send({MakeSnapshot(k1, k3, 10)});
    return !a.SnapshotStatus().empty();
  }));
  EXPECT_EQ(a.SnapshotStatus()[0], std::make_pair(k3, false));
  EXPECT_FALSE(a.Metrics(k3).connected);
  EXPECT_GE(a.Metrics(k3).link_failures, 1u);
}

TEST(Transport, UnknownPeerIsUnreachable) {
  TestNode a(k1);
  a.Start();
  a.transport().Send({MakeAppend(k1, k3, 1)});
  ASSERT_TRUE(a.WaitFor([&] { return a.Unreachable(k3) == 1; }));
  EXPECT_EQ(a.transport().Metrics().msgs_dropped_unknown_peer, 1u);
}

// b does not know a (its configuration is behind); a names its address in the handshake, b
// hears of it, and once b adds it as a peer its answers reach a. A node that is already a
// peer, or names no address, is no stranger.
TEST(Transport, StrangerNamingItsAddressIsReportedAndCanBeAnswered) {
  const uint16_t port = test::UnusedPort();
  TransportOptions o = test::TestOptions(k1);
  o.advertise_address = "127.0.0.1:" + std::to_string(port);
  TestNode a(o), b(k2), c(k3);
  a.Start(port);
  b.Start();
  c.Start();
  a.Connect(b);
  a.transport().Send({MakeAppend(k1, k2, 1)});
  ASSERT_TRUE(b.WaitReceived(k1, 1));
  ASSERT_TRUE(b.WaitFor([&] { return !b.Strangers().empty(); }));
  EXPECT_EQ(b.Strangers()[0], std::make_pair(k1, o.advertise_address));
  b.transport().Send({MakeAppend(k2, k1, 1)});  // not a peer yet: dropped
  EXPECT_EQ(b.transport().Metrics().msgs_dropped_unknown_peer, 1u);
  ASSERT_TRUE(b.transport().AddPeer(k1, b.Strangers()[0].second).ok());
  b.transport().Send({MakeAppend(k2, k1, 2)});
  ASSERT_TRUE(a.WaitReceived(k2, 1));
  EXPECT_EQ(a.Received(k2)[0].index, raft::LogIndex(2));
  // c (no address) connects to b, and b (a peer of a now) connected to a: no new reports.
  c.Connect(b);
  c.transport().Send({MakeAppend(k3, k2, 1)});
  ASSERT_TRUE(b.WaitReceived(k3, 1));
  EXPECT_EQ(b.Strangers().size(), 1u);
  EXPECT_TRUE(a.Strangers().empty());
}

TEST(Transport, RemovedPeerGetsNothingMore) {
  TestNode a(k1), b(k2);
  a.Start();
  b.Start();
  a.Connect(b);
  SendSequence(a, k2, 1, 5);
  ASSERT_TRUE(b.WaitReceived(k1, 5));
  a.transport().RemovePeer(k2);
  a.transport().Send({MakeAppend(k1, k2, 6)});
  EXPECT_EQ(a.transport().Metrics().msgs_dropped_unknown_peer, 1u);
  // Adding it back (the address may change) starts a fresh link.
  a.Connect(b);
  a.transport().Send({MakeAppend(k1, k2, 7)});
  ASSERT_TRUE(b.WaitReceived(k1, 6));
  EXPECT_EQ(b.Received(k1)[5].index, raft::LogIndex(7));
}

TEST(Transport, ListenAddressErrors) {
  TestNode a(k1);
  a.Start();
  Transport other(test::TestOptions(k2), {});
  Status s = other.Start("127.0.0.1:" + std::to_string(a.port()));  // taken
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  Transport bad(test::TestOptions(k3), {});
  EXPECT_EQ(bad.Start("no-port").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(a.transport().AddPeer(k2, "127.0.0.1:0").code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace synod::transport
