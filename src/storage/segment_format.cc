#include "storage/segment_format.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "base/crc32c.h"
#include "storage/coding.h"

namespace synod::storage {
namespace {

constexpr size_t kHeaderCrcOffset = 28;

bool ParseHex16(std::string_view s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    uint64_t d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  *out = v;
  return true;
}

}  // namespace

void EncodeSegmentHeader(const SegmentHeader& h, char* out) {
  std::memcpy(out, kSegmentMagic.data(), kSegmentMagic.size());
  EncodeFixed64(out + 8, h.seq);
  EncodeFixed64(out + 16, h.first_lsn);
  EncodeFixed32(out + 24, kSegmentVersion);
  EncodeFixed32(out + kHeaderCrcOffset, Crc32c(0, out, kHeaderCrcOffset));
}

Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderBytes) {
    return Status(ErrorCode::kCorruption, "segment shorter than its header");
  }
  if (bytes.substr(0, kSegmentMagic.size()) != kSegmentMagic) {
    return Status(ErrorCode::kCorruption, "bad magic");
  }
  const uint32_t crc = DecodeFixed32(bytes.data() + kHeaderCrcOffset);
  if (crc != Crc32c(0, bytes.data(), kHeaderCrcOffset)) {
    return Status(ErrorCode::kCorruption, "header crc mismatch");
  }
  const uint32_t version = DecodeFixed32(bytes.data() + 24);
  if (version != kSegmentVersion) {
    return Status(ErrorCode::kCorruption, "unsupported version " + std::to_string(version));
  }
  return SegmentHeader{DecodeFixed64(bytes.data() + 8), DecodeFixed64(bytes.data() + 16)};
}

void EncodeRecordHeader(uint32_t payload_crc, uint32_t length, uint32_t batch_start,
                        uint8_t type, char* out) {
  SYNOD_ASSERT(type != kInvalidRecordType, "record type 0 is reserved");
  SYNOD_ASSERT(batch_start >= kSegmentHeaderBytes, "a batch starts after the segment header");
  EncodeFixed32(out + 4, length);
  EncodeFixed32(out + 8, batch_start);
  out[12] = static_cast<char>(type);
  EncodeFixed32(out, Crc32c(payload_crc, out + 4, kRecordHeaderBytes - 4));
}

RecordHeader DecodeRecordHeader(const char* in) {
  return RecordHeader{DecodeFixed32(in), DecodeFixed32(in + 4), DecodeFixed32(in + 8),
                      static_cast<uint8_t>(in[12])};
}

uint32_t ExpectedRecordCrc(const char* header, std::string_view payload) {
  return Crc32c(Crc32c(payload), header + 4, kRecordHeaderBytes - 4);
}

std::string SegmentFileName(const SegmentHeader& h) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64 "-%016" PRIx64 "%s", h.seq, h.first_lsn,
                kSegmentSuffix.data());
  return buf;
}

bool ParseSegmentFileName(std::string_view name, SegmentHeader* out) {
  // 16 hex digits, '-', 16 hex digits, ".wal"
  if (name.size() != 33 + kSegmentSuffix.size() || name[16] != '-') return false;
  if (name.substr(33) != kSegmentSuffix) return false;
  return ParseHex16(name.substr(0, 16), &out->seq) &&
         ParseHex16(name.substr(17, 16), &out->first_lsn);
}

}  // namespace synod::storage
