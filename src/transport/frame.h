// Framing of a peer connection's byte stream. Each frame is
//   [u32 length][u32 crc32c][payload]       (both integers little-endian)
// where length counts the payload only and the CRC32C covers the payload. The payload is a
// serialized raftpb.Frame (raft_wire.proto); this layer neither knows nor cares.
//
// FrameReader is sans-IO: the connection reads into WritableSpace(), calls Commit(), then
// takes frames with Next() until it reports that more bytes are needed. A length above the
// current limit or a CRC mismatch is an error, after which the stream is unusable: the
// connection must be closed (nothing can be resynchronised inside a corrupt byte stream).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace synod::transport {

// Bumped for any change an older reader must refuse (see raft_wire.proto).
inline constexpr uint32_t kProtocolVersion = 2;  // 2: streamed snapshots
inline constexpr size_t kFrameHeaderBytes = 8;
// The length field is a u32; limits above this cannot be expressed on the wire.
inline constexpr size_t kFrameLengthMax = 0xffffffffu;
// Before the handshake is accepted a connection is unauthenticated: it gets a small limit so
// that a stranger cannot make us buffer megabytes.
inline constexpr size_t kHandshakeFrameBytesMax = 4096;

// Frame writing in place, so a serializer can append its payload straight into `out`:
//   size_t at = BeginFrame(out); <append payload to *out>; EndFrame(at, out);
size_t BeginFrame(std::string* out);
// Fills the header reserved at `at` and returns the payload length.
// REQUIRES: payload length <= kFrameLengthMax.
size_t EndFrame(size_t at, std::string* out);
void AppendFrame(std::string_view payload, std::string* out);

class FrameReader {
 public:
  explicit FrameReader(size_t frame_bytes_max);

  // The limit for frames not yet returned; raised once a connection is authenticated.
  void set_frame_bytes_max(size_t n);

  // Space to read into; valid until the next call on this reader. Never empty.
  std::span<char> WritableSpace();
  // REQUIRES: n <= WritableSpace().size() of the preceding call.
  void Commit(size_t n);

  // The next complete frame's payload (valid until the next call on this reader), nullopt
  // when more bytes are needed, or kCorruption / kLimitExceeded (terminal).
  Result<std::optional<std::string_view>> Next();

  size_t buffered_bytes() const { return end_ - start_; }

 private:
  void MakeRoom();

  size_t frame_bytes_max_;
  std::vector<char> buf_;
  size_t start_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last committed byte
  bool failed_ = false;
};

}  // namespace synod::transport
