// Bytes no synod node would send close only the connection that carried them: the node keeps
// serving its real peers, whose links are never disturbed.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "base/random.h"
#include "harness.h"
#include "transport/codec.h"
#include "transport/frame.h"

namespace synod::transport {
namespace {

using namespace std::chrono_literals;
using test::MakeAppend;
using test::MakeSnapshot;
using test::RawClient;
using test::TestNode;

const raft::NodeId k1(1), k2(2), kStranger(7);
constexpr size_t kFrameMax = 64 * 1024;
constexpr size_t kSnapshotFrameMax = 1 << 20;

class Abuse : public ::testing::Test {
 protected:
  Abuse() : a_(Options(k1)), b_(Options(k2)) {}

  static TransportOptions Options(raft::NodeId id) {
    TransportOptions o = test::TestOptions(id);
    o.frame_bytes_max = kFrameMax;
    o.snapshot_frame_bytes_max = kSnapshotFrameMax;
    o.snapshot_chunk_bytes = kFrameMax / 4;
    o.handshake_timeout = 300ms;
    return o;
  }

  void SetUp() override {
    a_.Start();
    b_.Start();
    b_.Connect(a_);
    ExpectHealthy();
  }

  // b's link to a carries traffic, and was never broken by what happened on other sockets.
  void ExpectHealthy() {
    const size_t before = a_.ReceivedCount(k2);
    b_.transport().Send({MakeAppend(k2, k1, next_seq_++)});
    ASSERT_TRUE(a_.WaitReceived(k2, before + 1));
    EXPECT_EQ(b_.Metrics(k1).link_failures, 0u);
    EXPECT_EQ(b_.Metrics(k1).connects, 1u);
  }

  static std::string Hello(raft::NodeId from = kStranger, raft::NodeId to = k1,
                           std::string token = "transport-test",
                           uint32_t version = kProtocolVersion) {
    std::string out;
    AppendHandshakeFrame(Handshake{version, std::move(token), from, to}, &out);
    return out;
  }

  static std::string Frames(std::vector<raft::Message> ms) {
    std::string out;
    (void)BatchEncoder().Append(ms, FrameLimits{16 << 20, 16 << 20}, &out);
    return out;
  }

  // Sends `bytes` on a fresh connection and checks that a closes it and says why.
  void ExpectRejected(const std::string& bytes, const std::string& reason) {
    const uint64_t rejected = a_.transport().Metrics().inbound_rejected;
    RawClient c(a_.port());
    ASSERT_TRUE(c.connected());
    c.Write(bytes);  // may fail part-way once the transport closes: that is the point
    EXPECT_TRUE(c.WaitClosed());
    EXPECT_TRUE(a_.WaitLog(reason)) << reason;
    EXPECT_TRUE(
        a_.WaitFor([&] { return a_.transport().Metrics().inbound_rejected == rejected + 1; }));
    ExpectHealthy();
  }

  TestNode a_, b_;
  uint64_t next_seq_ = 1;
};

TEST_F(Abuse, GarbageBytes) {
  Random random(99);
  std::string garbage(10000, '\0');
  for (char& c : garbage) c = static_cast<char>(random.Next());
  ExpectRejected(garbage, "closed connection from 127.0.0.1");
}

TEST_F(Abuse, HttpRequest) {
  // Someone pointing a browser at the peer port: "GET " read as a length is far too big.
  ExpectRejected("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "exceeds limit 4096");
}

TEST_F(Abuse, WrongClusterToken) {
  ExpectRejected(Hello(kStranger, k1, "other"), "token");
}

TEST_F(Abuse, WrongProtocolVersion) {
  ExpectRejected(Hello(kStranger, k1, "transport-test", 99), "protocol version 99");
}

TEST_F(Abuse, HandshakeForAnotherNode) {
  ExpectRejected(Hello(kStranger, raft::NodeId(3)), "addressed to node 3");
}

TEST_F(Abuse, MessagesBeforeHandshake) {
  // A batch read as a handshake has no version field.
  ExpectRejected(Frames({MakeAppend(kStranger, k1, 1)}), "protocol version 0");
}

TEST_F(Abuse, NoHandshakeInTime) {
  ExpectRejected("", "no handshake");
}

TEST_F(Abuse, LengthAboveTheLimit) {
  std::string header(kFrameHeaderBytes, '\0');
  const uint32_t length = kSnapshotFrameMax + 1;
  for (int i = 0; i < 4; ++i) header[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  ExpectRejected(Hello() + header, "exceeds limit " + std::to_string(kSnapshotFrameMax));
}

TEST_F(Abuse, OrdinaryFrameAboveItsLimit) {
  // Below the snapshot limit, but only a lone snapshot may use that allowance.
  ExpectRejected(Hello() + Frames({MakeAppend(kStranger, k1, 1, 1, 40000),
                                   MakeAppend(kStranger, k1, 2, 1, 40000)}),
                 "without a lone snapshot");
}

TEST_F(Abuse, BadCrcAfterGoodFrames) {
  std::string good = Frames({MakeAppend(kStranger, k1, 1)});
  std::string bad = Frames({MakeAppend(kStranger, k1, 2)});
  bad[5] ^= 0x40;  // a bit of the CRC
  ExpectRejected(Hello() + good + bad, "CRC32C mismatch");
  // The intact frame before the bad one was delivered; the bad one never is.
  ASSERT_EQ(a_.ReceivedCount(kStranger), 1u);
  EXPECT_EQ(a_.Received(kStranger)[0].index, raft::LogIndex(1));
}

TEST_F(Abuse, ForgedSender) {
  ExpectRejected(Hello() + Frames({MakeAppend(k2, k1, 1)}), "on the connection of node 7");
  EXPECT_EQ(a_.ReceivedCount(k2), next_seq_ - 1);  // only b's real messages
}

TEST_F(Abuse, UndecodablePayload) {
  std::string frame;
  AppendFrame("\x0a\xff\xff\xff\x7f", &frame);  // a message whose length runs off the end
  ExpectRejected(Hello() + frame, "not a raftpb.Batch");
}

std::string Announce(uint64_t bytes) {
  std::string out;
  BatchEncoder().AppendStreamedSnapshot(MakeSnapshot(kStranger, k1, 0), bytes, &out);
  return out;
}

std::string Chunk(uint64_t offset, std::string_view data, bool last = false, uint32_t crc = 0) {
  std::string out;
  BatchEncoder().AppendChunk(SnapshotChunkView{offset, data, last, crc}, &out);
  return out;
}

TEST_F(Abuse, SnapshotChunkWithoutItsSnapshot) {
  ExpectRejected(Hello() + Chunk(0, "image"), "a snapshot chunk without its snapshot");
}

TEST_F(Abuse, SnapshotChunkOutOfOrder) {
  ExpectRejected(Hello() + Announce(100) + Chunk(0, "abc") + Chunk(10, "def"),
                 "chunk at offset 10, expected 3");
}

TEST_F(Abuse, SnapshotChunksBeyondTheAnnouncedSize) {
  ExpectRejected(Hello() + Announce(4) + Chunk(0, "abcdef"), "beyond the announced 4 bytes");
}

TEST_F(Abuse, SnapshotWithTheWrongChecksum) {
  ExpectRejected(Hello() + Announce(3) + Chunk(0, "abc", true, 12345), "image checksum mismatch");
}

TEST_F(Abuse, SecondSnapshotBeforeTheFirstEnded) {
  ExpectRejected(Hello() + Announce(100) + Chunk(0, "abc") + Announce(100),
                 "announced before the last one ended");
}

TEST_F(Abuse, StreamedSnapshotAboveItsLimit) {
  ExpectRejected(Hello() + Announce((uint64_t{1} << 40) + 1), "above the limit");
}

TEST_F(Abuse, ManyBadConnectionsInARow) {
  for (int i = 0; i < 20; ++i) ExpectRejected(Hello(kStranger, k1, "bad"), "token");
  EXPECT_EQ(a_.transport().Metrics().inbound_rejected, 20u);
}

}  // namespace
}  // namespace synod::transport
