// The on-disk layout of a WAL segment (described in full in src/storage/README.md).
//
//   segment  = header(32) record* zeros*
//   header   = magic "synodwal"(8) seq(u64) first_lsn(u64) version(u32) crc(u32)
//   record   = crc(u32) length(u32) batch_start(u32) type(u8) payload(length)
//
// All integers are little-endian. A record's crc is CRC32C over its payload followed by the
// nine header bytes after the crc (length, batch_start, type); hashing the payload first lets
// a producer checksum its payload on its own thread before the writer fills in batch_start.
// batch_start is the segment offset where the write batch holding the record began (the first
// byte written after the previous fdatasync); recovery uses it to tell a torn final batch
// from damage to data that an fdatasync had already made durable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace synod::storage {

inline constexpr std::string_view kSegmentMagic = "synodwal";
inline constexpr uint32_t kSegmentVersion = 1;
inline constexpr uint64_t kSegmentHeaderBytes = 32;
inline constexpr uint64_t kRecordHeaderBytes = 13;
// Type 0 never names a record, so preallocated zeros never parse as one.
inline constexpr uint8_t kInvalidRecordType = 0;
inline constexpr std::string_view kSegmentSuffix = ".wal";
inline constexpr std::string_view kTempSuffix = ".tmp";

struct SegmentHeader {
  uint64_t seq = 0;
  uint64_t first_lsn = 0;  // record number of the segment's first record
  bool operator==(const SegmentHeader&) const = default;
};

void EncodeSegmentHeader(const SegmentHeader& h, char* out);
// Reason text on failure ("bad magic", "unsupported version 7", "header crc mismatch").
Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes);

struct RecordHeader {
  uint32_t crc = 0;
  uint32_t length = 0;
  uint32_t batch_start = 0;
  uint8_t type = kInvalidRecordType;
};

// Writes the 13 header bytes of a record whose payload has checksum `payload_crc`.
void EncodeRecordHeader(uint32_t payload_crc, uint32_t length, uint32_t batch_start,
                        uint8_t type, char* out);
RecordHeader DecodeRecordHeader(const char* in);
// The crc a record with this header and payload must carry.
uint32_t ExpectedRecordCrc(const char* header, std::string_view payload);

// "<seq:016x>-<first_lsn:016x>.wal": sorting names sorts segments.
std::string SegmentFileName(const SegmentHeader& h);
bool ParseSegmentFileName(std::string_view name, SegmentHeader* out);

}  // namespace synod::storage
