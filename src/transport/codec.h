// Frame payloads of a peer connection: one Handshake, then Batches of Raft messages
// (raft_wire.proto). The protobuf types stay inside codec.cc; this header speaks synod's
// types only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "raft/types.h"
#include "transport/frame.h"

namespace synod::raftpb {
class Batch;
class Message;
}  // namespace synod::raftpb

namespace synod::transport {

struct Handshake {
  uint32_t protocol_version = kProtocolVersion;
  std::string cluster_token;
  raft::NodeId from = raft::kNoNode;  // the connecting node
  raft::NodeId to = raft::kNoNode;    // the node it meant to reach
  std::string from_address;           // where the connecting node listens; may be empty
};

inline constexpr size_t kClusterTokenBytesMax = 1024;
inline constexpr size_t kFromAddressBytesMax = 1024;

void AppendHandshakeFrame(const Handshake& h, std::string* out);
// kCorruption if the payload is not a Handshake or its token is too long.
Result<Handshake> DecodeHandshake(std::string_view payload);

struct FrameLimits {
  size_t frame_bytes_max = 0;           // payload of a frame of ordinary messages
  size_t snapshot_frame_bytes_max = 0;  // payload of a frame holding one kSnapshot message
};

struct EncodeResult {
  size_t frames = 0;
  // Indexes into the input of the messages left out because even alone they exceed their
  // frame limit (Raft's own size limits should make this impossible for ordinary messages).
  std::vector<size_t> oversized;
};

// One piece of a streamed snapshot image (raft_wire.proto SnapshotChunk).
struct SnapshotChunkView {
  uint64_t offset = 0;
  std::string_view data;  // decoded: valid until the decoder's next call
  bool last = false;
  uint32_t image_crc32c = 0;  // meaningful on the last chunk
};

// What a decoded frame carries besides ordinary messages.
struct FrameExtras {
  // Nonzero: the frame's only message is a kSnapshot whose image (this many bytes) follows
  // as chunks; its snapshot data is empty.
  uint64_t streamed_bytes = 0;
  std::optional<SnapshotChunkView> chunk;  // a chunk frame holds no messages
};

// Writes Batch frames. Keeps one protobuf message between calls, so that in a steady stream
// the conversion reuses its entries and buffers instead of allocating them per message.
class BatchEncoder {
 public:
  BatchEncoder();
  ~BatchEncoder();
  BatchEncoder(const BatchEncoder&) = delete;
  BatchEncoder& operator=(const BatchEncoder&) = delete;

  // Appends `messages` as frames, in order: consecutive ordinary messages share a frame up
  // to frame_bytes_max; a kSnapshot message travels alone in a frame of up to
  // snapshot_frame_bytes_max, so a receiver can tell a legitimate big frame from an abuse.
  EncodeResult Append(std::span<const raft::Message> messages, const FrameLimits& limits,
                      std::string* out);

  // A frame holding kSnapshot message `m` alone, announcing that its image (`image_bytes`,
  // > 0) follows as chunks; the image bytes in `m`, if any, are not written.
  void AppendStreamedSnapshot(const raft::Message& m, uint64_t image_bytes, std::string* out);
  // A frame holding one chunk.
  void AppendChunk(const SnapshotChunkView& chunk, std::string* out);

 private:
  std::unique_ptr<raftpb::Message> scratch_;
};

// Reads Batch frames; reuses its protobuf objects between frames like BatchEncoder.
class BatchDecoder {
 public:
  BatchDecoder();
  ~BatchDecoder();
  BatchDecoder(const BatchDecoder&) = delete;
  BatchDecoder& operator=(const BatchDecoder&) = delete;

  // Appends the payload's messages to `out`. kCorruption if it is not a Batch synod writes;
  // `out` is then unchanged. The second form also takes streamed snapshots and chunks, which
  // the first refuses.
  Status Decode(std::string_view payload, std::vector<raft::Message>* out);
  Status Decode(std::string_view payload, std::vector<raft::Message>* out, FrameExtras* extras);

 private:
  std::unique_ptr<raftpb::Batch> batch_;
};

}  // namespace synod::transport
