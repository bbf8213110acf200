// The wire format without sockets: protobuf conversion of every message type, framing, the
// incremental frame reader and batching under frame limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/crc32c.h"
#include "test_messages.h"
#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/raft_proto.h"
#include "transport/raft_wire.pb.h"
#include "transport/snapshot_stream.h"

namespace synod::transport {
namespace {

using raft::MessageType;
using test::ExpectSameMessage;
using test::MakeAppend;
using test::MakeSnapshot;

constexpr MessageType kAllTypes[] = {
    MessageType::kAppend,       MessageType::kAppendResponse,    MessageType::kVote,
    MessageType::kVoteResponse, MessageType::kPreVote,           MessageType::kPreVoteResponse,
    MessageType::kHeartbeat,    MessageType::kHeartbeatResponse, MessageType::kSnapshot,
    MessageType::kTimeoutNow,   MessageType::kReadIndex,         MessageType::kReadIndexResponse,
    MessageType::kPropose,
};

// Every field set to a distinct non-default value, so a field lost or swapped shows.
raft::Message FullMessage(MessageType type) {
  raft::Message m;
  m.group = raft::GroupId(0x1122334455667788ULL);
  m.type = type;
  m.from = raft::NodeId(7);
  m.to = raft::NodeId(9);
  m.term = raft::Term(11);
  m.log_term = raft::Term(10);
  m.index = raft::LogIndex(1234);
  m.entries = {
      raft::Entry{raft::Term(10), raft::LogIndex(1235), raft::EntryType::kNormal,
                  raft::Payload("put a=1")},
      raft::Entry{raft::Term(11), raft::LogIndex(1236), raft::EntryType::kConfChange,
                  raft::Payload(std::string("\0\x01\xff binary", 10))},
      raft::Entry{raft::Term(11), raft::LogIndex(1237), raft::EntryType::kNormal, raft::Payload()},
  };
  m.commit = raft::LogIndex(1230);
  m.reject = true;
  m.reject_hint = raft::LogIndex(1200);
  raft::Snapshot s;
  s.metadata.conf_state.voters = {raft::NodeId(1), raft::NodeId(2)};
  s.metadata.conf_state.learners = {raft::NodeId(3)};
  s.metadata.conf_state.voters_outgoing = {raft::NodeId(1), raft::NodeId(4)};
  s.metadata.conf_state.learners_next = {raft::NodeId(4)};
  s.metadata.conf_state.auto_leave = true;
  s.metadata.index = raft::LogIndex(1000);
  s.metadata.term = raft::Term(9);
  s.data = raft::Payload(std::string("state\0image", 11));
  m.snapshot = s;
  m.transfer = true;
  m.context = 0xfedcba9876543210ULL;
  return m;
}

TEST(RaftProto, EveryTypeWithAllFieldsRoundTrips) {
  for (MessageType type : kAllTypes) {
    SCOPED_TRACE(raft::MessageTypeName(type));
    const raft::Message m = FullMessage(type);
    raftpb::Message pb;
    MessageToProto(m, &pb);
    // Through bytes, as on the wire.
    raftpb::Message parsed;
    ASSERT_TRUE(parsed.ParseFromString(pb.SerializeAsString()));
    Result<raft::Message> back = MessageFromProto(&parsed);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ExpectSameMessage(m, back.value());
  }
}

TEST(RaftProto, DefaultsRoundTripAndSnapshotPresenceIsKept) {
  raft::Message m;  // all defaults, no snapshot
  raftpb::Message pb;
  MessageToProto(m, &pb);
  EXPECT_FALSE(pb.has_snapshot());
  Result<raft::Message> back = MessageFromProto(&pb);
  ASSERT_TRUE(back.ok());
  ExpectSameMessage(m, back.value());

  m.snapshot = raft::Snapshot{};  // present but empty is not absent
  MessageToProto(m, &pb);
  EXPECT_TRUE(pb.has_snapshot());
  back = MessageFromProto(&pb);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back.value().snapshot.has_value());
}

TEST(RaftProto, WireNumbersAreFixed) {
  // Changing these breaks compatibility with running nodes.
  raftpb::Message pb;
  raft::Message m;
  m.type = MessageType::kSnapshot;
  MessageToProto(m, &pb);
  EXPECT_EQ(pb.type(), 8);
  m.type = MessageType::kPropose;
  MessageToProto(m, &pb);
  EXPECT_EQ(pb.type(), 12);
}

TEST(RaftProto, UnknownTypesAreCorruption) {
  raftpb::Message pb;
  pb.set_type(static_cast<raftpb::MessageType>(99));
  Result<raft::Message> r = MessageFromProto(&pb);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);

  raftpb::Message pe;
  pe.add_entries()->set_type(static_cast<raftpb::EntryType>(5));
  r = MessageFromProto(&pe);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
}

// Feeds `bytes` to a reader in pieces of `step` and returns every payload.
std::vector<std::string> ReadAll(const std::string& bytes, size_t step, size_t limit) {
  FrameReader reader(limit);
  std::vector<std::string> out;
  size_t at = 0;
  while (at < bytes.size()) {
    std::span<char> space = reader.WritableSpace();
    const size_t n = std::min({step, space.size(), bytes.size() - at});
    std::copy_n(bytes.data() + at, n, space.data());
    reader.Commit(n);
    at += n;
    for (;;) {
      auto next = reader.Next();
      EXPECT_TRUE(next.ok());
      if (!next.ok() || !next.value()) break;
      out.emplace_back(*next.value());
    }
  }
  EXPECT_EQ(reader.buffered_bytes(), 0u);
  return out;
}

TEST(Frame, LayoutIsLengthCrcPayload) {
  std::string out;
  AppendFrame("hello", &out);
  ASSERT_EQ(out.size(), kFrameHeaderBytes + 5);
  EXPECT_EQ(out.substr(0, 4), std::string("\x05\0\0\0", 4));  // little-endian length
  const uint32_t crc = Crc32c("hello");
  std::string crc_le(4, '\0');
  for (int i = 0; i < 4; ++i) crc_le[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  EXPECT_EQ(out.substr(4, 4), crc_le);
  EXPECT_EQ(out.substr(8), "hello");
}

TEST(Frame, ReaderReassemblesAnySplit) {
  std::string stream;
  std::vector<std::string> payloads = {"", "a", std::string(200000, 'x'), "tail"};
  for (const std::string& p : payloads) AppendFrame(p, &stream);
  for (size_t step : {1ul, 7ul, 8ul, 4096ul, 1ul << 20}) {
    SCOPED_TRACE(step);
    EXPECT_EQ(ReadAll(stream, step, 1 << 20), payloads);
  }
}

TEST(Frame, LengthAboveLimitFailsBeforeThePayloadArrives) {
  std::string stream;
  AppendFrame(std::string(100, 'x'), &stream);
  FrameReader reader(99);
  std::span<char> space = reader.WritableSpace();
  std::copy_n(stream.data(), kFrameHeaderBytes, space.data());  // the header alone
  reader.Commit(kFrameHeaderBytes);
  auto next = reader.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), ErrorCode::kLimitExceeded);
}

TEST(Frame, CrcMismatchIsCorruption) {
  std::string stream;
  AppendFrame("payload", &stream);
  stream.back() ^= 0x01;
  FrameReader reader(1024);
  std::span<char> space = reader.WritableSpace();
  std::copy(stream.begin(), stream.end(), space.data());
  reader.Commit(stream.size());
  auto next = reader.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), ErrorCode::kCorruption);
}

TEST(Codec, HandshakeRoundTrips) {
  std::string stream;
  AppendHandshakeFrame(Handshake{kProtocolVersion, "cluster-a", raft::NodeId(2), raft::NodeId(5)},
                       &stream);
  EXPECT_LE(stream.size(), kFrameHeaderBytes + kHandshakeFrameBytesMax);
  std::vector<std::string> payloads = ReadAll(stream, stream.size(), kHandshakeFrameBytesMax);
  ASSERT_EQ(payloads.size(), 1u);
  Result<Handshake> h = DecodeHandshake(payloads[0]);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value().protocol_version, kProtocolVersion);
  EXPECT_EQ(h.value().cluster_token, "cluster-a");
  EXPECT_EQ(h.value().from, raft::NodeId(2));
  EXPECT_EQ(h.value().to, raft::NodeId(5));
}

TEST(Codec, GarbagePayloadIsCorruption) {
  BatchDecoder decoder;
  std::vector<raft::Message> out;
  EXPECT_EQ(decoder.Decode("\xff\xff\xff garbage", &out).code(), ErrorCode::kCorruption);
  EXPECT_FALSE(DecodeHandshake("\x12\xff\xff\xff\x7f").ok());
  EXPECT_TRUE(out.empty());
}

TEST(Codec, BadMessageLeavesOutputUnchanged) {
  raftpb::Batch batch;
  MessageToProto(MakeAppend(raft::NodeId(1), raft::NodeId(2), 1), batch.add_messages());
  batch.add_messages()->set_type(static_cast<raftpb::MessageType>(77));
  BatchDecoder decoder;
  std::vector<raft::Message> out(1);
  EXPECT_EQ(decoder.Decode(batch.SerializeAsString(), &out).code(), ErrorCode::kCorruption);
  EXPECT_EQ(out.size(), 1u);
}

std::vector<raft::Message> DecodeStream(const std::string& stream, size_t limit, size_t* frames) {
  std::vector<raft::Message> out;
  std::vector<std::string> payloads = ReadAll(stream, 65536, limit);
  *frames = payloads.size();
  BatchDecoder decoder;
  for (const std::string& p : payloads) EXPECT_TRUE(decoder.Decode(p, &out).ok());
  return out;
}

TEST(Codec, BatchesShareFramesUpToTheLimit) {
  const raft::NodeId a(1), b(2);
  std::vector<raft::Message> in;
  for (uint64_t i = 0; i < 200; ++i) in.push_back(MakeAppend(a, b, i, 4, 64));
  const FrameLimits limits{8192, 1 << 20};
  std::string stream;
  const EncodeResult r = BatchEncoder().Append(in, limits, &stream);
  EXPECT_TRUE(r.oversized.empty());
  EXPECT_GT(r.frames, 1u);
  EXPECT_LT(r.frames, in.size() / 5);  // several messages per frame
  size_t frames = 0;
  std::vector<raft::Message> out = DecodeStream(stream, limits.frame_bytes_max, &frames);
  EXPECT_EQ(frames, r.frames);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) ExpectSameMessage(in[i], out[i]);
}

TEST(Codec, FramePayloadIsThePlainBatchEncoding) {
  std::vector<raft::Message> in = {FullMessage(MessageType::kAppend),
                                   FullMessage(MessageType::kHeartbeat)};
  std::string stream;
  BatchEncoder encoder;
  ASSERT_EQ(encoder.Append(in, FrameLimits{1 << 20, 1 << 20}, &stream).frames, 1u);
  raftpb::Batch batch;
  for (const raft::Message& m : in) MessageToProto(m, batch.add_messages());
  EXPECT_EQ(stream.substr(kFrameHeaderBytes), batch.SerializeAsString());
}

TEST(Codec, SnapshotTravelsAloneInABigFrame) {
  const raft::NodeId a(1), b(2);
  std::vector<raft::Message> in = {MakeAppend(a, b, 1), MakeSnapshot(a, b, 100000),
                                   MakeAppend(a, b, 2)};
  const FrameLimits limits{8192, 1 << 20};
  std::string stream;
  const EncodeResult r = BatchEncoder().Append(in, limits, &stream);
  EXPECT_TRUE(r.oversized.empty());
  EXPECT_EQ(r.frames, 3u);
  size_t frames = 0;
  std::vector<raft::Message> out = DecodeStream(stream, limits.snapshot_frame_bytes_max, &frames);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < in.size(); ++i) ExpectSameMessage(in[i], out[i]);
}

TEST(Codec, MessagesAboveTheirLimitAreLeftOut) {
  const raft::NodeId a(1), b(2);
  std::vector<raft::Message> in = {MakeAppend(a, b, 1), MakeAppend(a, b, 2, 1, 10000),
                                   MakeSnapshot(a, b, 50000), MakeAppend(a, b, 3)};
  const FrameLimits limits{4096, 40000};
  std::string stream;
  const EncodeResult r = BatchEncoder().Append(in, limits, &stream);
  EXPECT_EQ(r.oversized, (std::vector<size_t>{1, 2}));
  size_t frames = 0;
  std::vector<raft::Message> out = DecodeStream(stream, limits.snapshot_frame_bytes_max, &frames);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].index, raft::LogIndex(1));
  EXPECT_EQ(out[1].index, raft::LogIndex(3));
}

// A streamed image, through frames and back: the announcing frame, then chunks of at most
// the chunk size; the receiver rebuilds the message the sender started from.
TEST(Codec, StreamedSnapshotRoundTrip) {
  const raft::NodeId a(1), b(2);
  const raft::Message snap = MakeSnapshot(a, b, 100000);
  std::string stream;
  BatchEncoder encoder;
  SnapshotSender sender(snap, std::make_unique<test::MemorySource>(snap.snapshot->data), 4096);
  sender.AppendHeader(encoder, &stream);
  int chunks = 0;
  while (!sender.done()) {
    ASSERT_TRUE(sender.AppendNextChunk(encoder, &stream).ok());
    ++chunks;
  }
  EXPECT_EQ(chunks, 25);  // 100000 / 4096, rounded up

  BatchDecoder decoder;
  std::optional<SnapshotReceiver> receiver;
  std::vector<raft::Message> delivered;
  for (const std::string& p : ReadAll(stream, 65536, 8192)) {
    std::vector<raft::Message> out;
    FrameExtras extras;
    ASSERT_TRUE(decoder.Decode(p, &out, &extras).ok());
    if (extras.streamed_bytes != 0) {
      ASSERT_EQ(out.size(), 1u);
      EXPECT_TRUE(out[0].snapshot->data.empty());
      receiver.emplace(std::move(out[0]), extras.streamed_bytes, std::make_unique<test::MemorySink>());
      continue;
    }
    ASSERT_TRUE(extras.chunk.has_value());
    ASSERT_TRUE(receiver.has_value());
    ASSERT_TRUE(receiver->Add(*extras.chunk).ok());
    if (receiver->done()) {
      auto m = receiver->Finish();
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      delivered.push_back(std::move(m.value()));
    }
  }
  ASSERT_EQ(delivered.size(), 1u);
  ExpectSameMessage(delivered[0], snap);
  // The plain decoder (no streaming) refuses what it cannot deliver.
  std::vector<raft::Message> out;
  EXPECT_EQ(decoder.Decode(ReadAll(stream, 65536, 8192)[0], &out).code(), ErrorCode::kCorruption);
  EXPECT_TRUE(out.empty());
}

TEST(Codec, StreamedSnapshotReceiverChecks) {
  const raft::Message snap = MakeSnapshot(raft::NodeId(1), raft::NodeId(2), 0);
  auto receiver = [&] { return SnapshotReceiver(snap, 6, std::make_unique<test::MemorySink>()); };
  {
    SnapshotReceiver r = receiver();
    ASSERT_TRUE(r.Add({0, "abc", false, 0}).ok());
    EXPECT_EQ(r.Add({4, "def", false, 0}).code(), ErrorCode::kCorruption);  // a gap
  }
  {
    SnapshotReceiver r = receiver();
    EXPECT_EQ(r.Add({0, "abcdefg", false, 0}).code(), ErrorCode::kCorruption);  // too long
  }
  {
    SnapshotReceiver r = receiver();
    EXPECT_EQ(r.Add({0, "abc", true, Crc32c("abc")}).code(), ErrorCode::kCorruption);  // short
  }
  {
    SnapshotReceiver r = receiver();
    ASSERT_TRUE(r.Add({0, "abc", false, 0}).ok());
    EXPECT_EQ(r.Add({3, "def", true, Crc32c("abcdeF")}).code(), ErrorCode::kCorruption);
  }
  {
    SnapshotReceiver r = receiver();
    ASSERT_TRUE(r.Add({0, "abc", false, 0}).ok());
    ASSERT_TRUE(r.Add({3, "def", true, Crc32c("abcdef")}).ok());
    ASSERT_TRUE(r.done());
    auto m = r.Finish();
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m.value().snapshot->data.view(), "abcdef");
  }
  {
    // No sink: read to the end, then nothing to deliver.
    SnapshotReceiver r(snap, 3, nullptr);
    ASSERT_TRUE(r.Add({0, "abc", true, Crc32c("abc")}).ok());
    EXPECT_FALSE(r.Finish().ok());
  }
}

}  // namespace
}  // namespace synod::transport
