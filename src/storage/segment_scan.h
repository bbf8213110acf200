// Reading back one segment and deciding what its end means. Pure: bytes in, verdict out, so
// every torn or corrupt layout can be tested without touching a disk.
//
// How a damaged record is classified (the damage is at offset p, the first record that does
// not parse or fails its crc):
//   - Nothing but zeros from p to the end: the clean end of the log (preallocated space).
//   - p is in a segment that is not the last one: corruption. The writer fdatasyncs a segment
//     in full before it creates the next, so nothing in an older segment can be torn.
//   - No valid record after p: a torn tail, the unsynced end of the final write batch.
//   - Valid records after p: torn only if p lies in the final write batch (p >= the largest
//     batch_start of any valid record in the segment) and the damaged span holds an aligned
//     zero sector, the trace of a page the crash kept from reaching the disk. A batch is
//     written only after the previous batch's fdatasync returned, so a later batch on disk
//     proves that every earlier byte was durable: damage there is corruption, not a tear.
// Limitation: damage inside the final batch that looks like a lost sector cannot be told
// apart from a crash during that batch's fdatasync, so it is dropped as a tear.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace synod::storage {

// Torn and corrupt spans are judged in units of the smallest atomic device write.
inline constexpr uint64_t kSectorBytes = 512;

enum class SegmentEnd : uint8_t {
  kClean,    // records, then only zeros (or the end of the file)
  kTorn,     // a torn final batch at damage_offset: drop everything from there
  kCorrupt,  // damage to durable data at damage_offset: refuse to start
};

struct SegmentScan {
  SegmentEnd end = SegmentEnd::kClean;
  uint64_t records = 0;        // valid records before the end, all passed to the visitor
  uint64_t valid_bytes = 0;    // offset just past the last valid record: appends resume here
  uint64_t damage_offset = 0;  // kTorn, kCorrupt: start of the first bad record
  std::string reason;          // kTorn, kCorrupt: why that record is bad ("crc mismatch")
  uint64_t dropped_bytes = 0;  // kTorn: bytes from damage_offset to the last nonzero byte
  uint64_t dropped_records = 0;  // kTorn: well-formed records of the torn batch after it
};

struct ScanOptions {
  bool last_segment = false;
  uint64_t record_bytes_max = 0;  // a longer length field marks a bad record
};

// Called for each valid record before the end, in order; `offset` is where its header starts.
// A non-ok Status stops the scan and is returned by ScanSegment.
using ScanVisitor =
    std::function<Status(uint64_t offset, uint8_t type, std::string_view payload)>;

// REQUIRES: `segment` holds the whole file and its header has been checked.
Result<SegmentScan> ScanSegment(std::string_view segment, const ScanOptions& options,
                                const ScanVisitor& visit);

}  // namespace synod::storage
