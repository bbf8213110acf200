#include "transport/frame.h"

#include <algorithm>
#include <cstring>

#include "base/assert.h"
#include "base/crc32c.h"

namespace synod::transport {
namespace {

// Reads are issued with at least this much free space: large enough that a busy connection
// drains its socket buffer in a few system calls, small enough to keep idle connections cheap.
constexpr size_t kReadChunkBytes = 64 * 1024;
// A buffer grown for a big frame (a snapshot) is given back once it is empty again.
constexpr size_t kIdleBufferBytesMax = 4 * kReadChunkBytes;

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

}  // namespace

size_t BeginFrame(std::string* out) {
  const size_t at = out->size();
  out->append(kFrameHeaderBytes, '\0');
  return at;
}

size_t EndFrame(size_t at, std::string* out) {
  SYNOD_ASSERT(out->size() >= at + kFrameHeaderBytes, "EndFrame without BeginFrame");
  const size_t length = out->size() - at - kFrameHeaderBytes;
  SYNOD_ASSERT(length <= kFrameLengthMax, "frame payload does not fit the u32 length");
  char* header = out->data() + at;
  PutU32(header, static_cast<uint32_t>(length));
  PutU32(header + 4, Crc32c(0, header + kFrameHeaderBytes, length));
  return length;
}

void AppendFrame(std::string_view payload, std::string* out) {
  const size_t at = BeginFrame(out);
  out->append(payload);
  EndFrame(at, out);
}

FrameReader::FrameReader(size_t frame_bytes_max)
    : frame_bytes_max_(frame_bytes_max), buf_(kReadChunkBytes) {
  SYNOD_ASSERT(frame_bytes_max <= kFrameLengthMax, "frame limit above the u32 length");
}

void FrameReader::set_frame_bytes_max(size_t n) {
  SYNOD_ASSERT(n <= kFrameLengthMax, "frame limit above the u32 length");
  frame_bytes_max_ = n;
}

void FrameReader::MakeRoom() {
  if (start_ == end_) {
    start_ = end_ = 0;
    if (buf_.size() > kIdleBufferBytesMax) buf_.assign(kReadChunkBytes, '\0');
  } else if (start_ > 0) {
    // Only the tail of a partial frame moves, once per consumed batch of frames.
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  // Geometric growth, driven by bytes that actually arrived: a header announcing a huge frame
  // costs nothing until its payload is really sent.
  if (buf_.size() - end_ < kReadChunkBytes)
    buf_.resize(std::max(buf_.size() * 2, end_ + kReadChunkBytes));
}

std::span<char> FrameReader::WritableSpace() {
  SYNOD_ASSERT(!failed_, "reading from a failed frame stream");
  MakeRoom();
  SYNOD_ASSERT(end_ < buf_.size(), "no room after MakeRoom");
  return std::span<char>(buf_.data() + end_, buf_.size() - end_);
}

void FrameReader::Commit(size_t n) {
  SYNOD_ASSERT(end_ + n <= buf_.size(), "committed more than the writable space");
  end_ += n;
}

Result<std::optional<std::string_view>> FrameReader::Next() {
  SYNOD_ASSERT(!failed_, "Next on a failed frame stream");
  if (end_ - start_ < kFrameHeaderBytes) return std::optional<std::string_view>();
  const char* header = buf_.data() + start_;
  const uint32_t length = GetU32(header);
  if (length > frame_bytes_max_) {
    failed_ = true;
    return Status(ErrorCode::kLimitExceeded, "frame length " + std::to_string(length) +
                                                 " exceeds limit " +
                                                 std::to_string(frame_bytes_max_));
  }
  if (end_ - start_ < kFrameHeaderBytes + length) return std::optional<std::string_view>();
  const char* payload = header + kFrameHeaderBytes;
  if (Crc32c(0, payload, length) != GetU32(header + 4)) {
    failed_ = true;
    return Status(ErrorCode::kCorruption, "frame CRC32C mismatch");
  }
  start_ += kFrameHeaderBytes + length;
  return std::optional<std::string_view>(std::string_view(payload, length));
}

}  // namespace synod::transport
