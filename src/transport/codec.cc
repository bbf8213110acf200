#include "transport/codec.h"

#include <google/protobuf/io/coded_stream.h>

#include <cstring>
#include <utility>

#include "base/assert.h"
#include "transport/raft_proto.h"
#include "transport/raft_wire.pb.h"

namespace synod::transport {
namespace {

using google::protobuf::io::CodedOutputStream;

// Batch.messages is field 1, length-delimited: tag (1 << 3) | 2.
constexpr uint8_t kMessagesTag = 0x0a;

size_t FieldBytes(size_t body) {
  return 1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(body)) + body;
}

// Appends `pm` as one Batch.messages field, using the sizes ByteSizeLong just cached.
void AppendMessageField(const raftpb::Message& pm, size_t body, std::string* out) {
  uint8_t head[1 + 5];
  head[0] = kMessagesTag;
  uint8_t* end = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(body), head + 1);
  const size_t head_bytes = static_cast<size_t>(end - head);
  const size_t at = out->size();
  out->resize(at + head_bytes + body);
  uint8_t* target = reinterpret_cast<uint8_t*>(out->data() + at);
  std::memcpy(target, head, head_bytes);
  uint8_t* written_end = pm.SerializeWithCachedSizesToArray(target + head_bytes);
  SYNOD_ASSERT(written_end == target + head_bytes + body, "message size changed while written");
}

}  // namespace

void AppendHandshakeFrame(const Handshake& h, std::string* out) {
  SYNOD_ASSERT(h.cluster_token.size() <= kClusterTokenBytesMax, "cluster token too long");
  SYNOD_ASSERT(h.from_address.size() <= kFromAddressBytesMax, "own address too long");
  raftpb::Handshake ph;
  ph.set_protocol_version(h.protocol_version);
  ph.set_cluster_token(h.cluster_token);
  ph.set_from(h.from.value);
  ph.set_to(h.to.value);
  ph.set_from_address(h.from_address);
  const size_t at = BeginFrame(out);
  const bool ok = ph.AppendToString(out);
  SYNOD_ASSERT(ok, "serializing a handshake failed");
  const size_t length = EndFrame(at, out);
  SYNOD_ASSERT(length <= kHandshakeFrameBytesMax, "handshake above the pre-handshake limit");
}

Result<Handshake> DecodeHandshake(std::string_view payload) {
  raftpb::Handshake ph;
  if (!ph.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Status(ErrorCode::kCorruption, "frame payload is not a raftpb.Handshake");
  }
  if (ph.cluster_token().size() > kClusterTokenBytesMax) {
    return Status(ErrorCode::kCorruption, "handshake cluster token too long");
  }
  if (ph.from_address().size() > kFromAddressBytesMax) {
    return Status(ErrorCode::kCorruption, "handshake address too long");
  }
  return Handshake{ph.protocol_version(), std::move(*ph.mutable_cluster_token()),
                   raft::NodeId(ph.from()), raft::NodeId(ph.to()),
                   std::move(*ph.mutable_from_address())};
}

BatchEncoder::BatchEncoder() : scratch_(std::make_unique<raftpb::Message>()) {}
BatchEncoder::~BatchEncoder() = default;

EncodeResult BatchEncoder::Append(std::span<const raft::Message> messages,
                                  const FrameLimits& limits, std::string* out) {
  SYNOD_ASSERT(limits.frame_bytes_max <= limits.snapshot_frame_bytes_max &&
                   limits.snapshot_frame_bytes_max <= kFrameLengthMax,
               "frame limits out of order");
  EncodeResult result;
  size_t frame_at = 0;
  size_t frame_bytes = 0;
  bool frame_open = false;
  auto close_frame = [&] {
    if (!frame_open) return;
    const size_t length = EndFrame(frame_at, out);
    SYNOD_ASSERT(length == frame_bytes, "frame length differs from its accounting");
    frame_open = false;
    ++result.frames;
  };
  for (size_t i = 0; i < messages.size(); ++i) {
    const bool snapshot = messages[i].type == raft::MessageType::kSnapshot;
    MessageToProto(messages[i], scratch_.get());
    const size_t body = scratch_->ByteSizeLong();
    const size_t bytes = FieldBytes(body);
    if (bytes > (snapshot ? limits.snapshot_frame_bytes_max : limits.frame_bytes_max)) {
      result.oversized.push_back(i);
      continue;
    }
    // A snapshot gets a frame of its own; other messages share one while it has room.
    if (snapshot || frame_bytes + bytes > limits.frame_bytes_max) close_frame();
    if (!frame_open) {
      frame_at = BeginFrame(out);
      frame_bytes = 0;
      frame_open = true;
    }
    AppendMessageField(*scratch_, body, out);
    frame_bytes += bytes;
    if (snapshot) close_frame();
  }
  close_frame();
  // A snapshot image must not stay referenced (and its copy held) by the scratch message.
  scratch_->clear_snapshot();
  return result;
}

void BatchEncoder::AppendStreamedSnapshot(const raft::Message& m, uint64_t image_bytes,
                                          std::string* out) {
  SYNOD_ASSERT(m.type == raft::MessageType::kSnapshot && m.snapshot && image_bytes > 0,
               "only a snapshot message announces a streamed image");
  MessageToProto(m, scratch_.get());
  scratch_->mutable_snapshot()->clear_data();
  scratch_->mutable_snapshot()->set_streamed_bytes(image_bytes);
  const size_t at = BeginFrame(out);
  AppendMessageField(*scratch_, scratch_->ByteSizeLong(), out);
  EndFrame(at, out);
  scratch_->clear_snapshot();
}

void BatchEncoder::AppendChunk(const SnapshotChunkView& chunk, std::string* out) {
  raftpb::Batch batch;
  raftpb::SnapshotChunk* pc = batch.mutable_chunk();
  pc->set_offset(chunk.offset);
  pc->set_data(chunk.data.data(), chunk.data.size());
  pc->set_last(chunk.last);
  pc->set_image_crc32c(chunk.image_crc32c);
  const size_t at = BeginFrame(out);
  const bool ok = batch.AppendToString(out);
  SYNOD_ASSERT(ok, "serializing a snapshot chunk failed");
  EndFrame(at, out);
}

BatchDecoder::BatchDecoder() : batch_(std::make_unique<raftpb::Batch>()) {}
BatchDecoder::~BatchDecoder() = default;

Status BatchDecoder::Decode(std::string_view payload, std::vector<raft::Message>* out) {
  FrameExtras extras;
  Status s = Decode(payload, out, &extras);
  if (s.ok() && (extras.streamed_bytes != 0 || extras.chunk)) {
    out->resize(out->size() - (extras.streamed_bytes != 0 ? 1 : 0));
    return Status(ErrorCode::kCorruption, "a streamed snapshot where none is expected");
  }
  return s;
}

Status BatchDecoder::Decode(std::string_view payload, std::vector<raft::Message>* out,
                            FrameExtras* extras) {
  *extras = FrameExtras{};
  if (!batch_->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Status(ErrorCode::kCorruption, "frame payload is not a raftpb.Batch");
  }
  if (batch_->has_chunk()) {
    if (batch_->messages_size() != 0) {
      return Status(ErrorCode::kCorruption, "a frame holds both messages and a snapshot chunk");
    }
    const raftpb::SnapshotChunk& pc = batch_->chunk();
    extras->chunk = SnapshotChunkView{pc.offset(), pc.data(), pc.last(), pc.image_crc32c()};
    return Status::Ok();
  }
  for (const raftpb::Message& pm : batch_->messages()) {
    if (!pm.has_snapshot() || pm.snapshot().streamed_bytes() == 0) continue;
    if (batch_->messages_size() != 1 || pm.type() != raftpb::MSG_SNAPSHOT ||
        !pm.snapshot().data().empty()) {
      return Status(ErrorCode::kCorruption, "a streamed snapshot not alone in its frame");
    }
    extras->streamed_bytes = pm.snapshot().streamed_bytes();
  }
  const size_t first = out->size();
  out->reserve(first + batch_->messages_size());
  for (raftpb::Message& pm : *batch_->mutable_messages()) {
    Result<raft::Message> m = MessageFromProto(&pm);
    if (!m.ok()) {
      out->resize(first);
      return m.status();
    }
    out->push_back(std::move(m.value()));
  }
  return Status::Ok();
}

}  // namespace synod::transport
