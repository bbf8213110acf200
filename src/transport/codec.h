// Frame payloads of a peer connection: one Handshake, then Batches of Raft messages
// (raft_wire.proto). The protobuf types stay inside codec.cc; this header speaks synod's
// types only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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
  // `out` is then unchanged.
  Status Decode(std::string_view payload, std::vector<raft::Message>* out);

 private:
  std::unique_ptr<raftpb::Batch> batch_;
};

}  // namespace synod::transport
