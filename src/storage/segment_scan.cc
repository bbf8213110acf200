#include "storage/segment_scan.h"

#include <algorithm>

#include "storage/segment_format.h"

namespace synod::storage {
namespace {

struct Parsed {
  bool valid = false;
  const char* reason = "";
  RecordHeader header;
  uint64_t end = 0;  // offset past the record when valid
};

// Checks, cheapest first, whether a well-formed record starts at `offset`.
Parsed ParseAt(std::string_view seg, uint64_t offset, uint64_t record_bytes_max) {
  Parsed p;
  if (seg.size() - offset < kRecordHeaderBytes) {
    p.reason = "truncated record header";
    return p;
  }
  p.header = DecodeRecordHeader(seg.data() + offset);
  const RecordHeader& h = p.header;
  if (h.type == kInvalidRecordType) {
    p.reason = "invalid record type";
  } else if (h.batch_start < kSegmentHeaderBytes || h.batch_start > offset) {
    p.reason = "bad batch start";
  } else if (h.length > record_bytes_max) {
    p.reason = "length over the record limit";
  } else if (h.length > seg.size() - offset - kRecordHeaderBytes) {
    p.reason = "record runs past the end of the segment";
  } else {
    const std::string_view payload = seg.substr(offset + kRecordHeaderBytes, h.length);
    if (ExpectedRecordCrc(seg.data() + offset, payload) != h.crc) {
      p.reason = "crc mismatch";
    } else {
      p.valid = true;
      p.end = offset + kRecordHeaderBytes + h.length;
    }
  }
  return p;
}

// Index one past the last nonzero byte at or after `from`, or `from` if all are zero.
uint64_t NonzeroEnd(std::string_view seg, uint64_t from) {
  uint64_t end = seg.size();
  while (end > from && seg[end - 1] == 0) --end;
  return end;
}

// True if [begin, end) contains a whole sector-aligned run of zeros.
bool HasZeroSector(std::string_view seg, uint64_t begin, uint64_t end) {
  for (uint64_t s = (begin + kSectorBytes - 1) / kSectorBytes * kSectorBytes;
       s + kSectorBytes <= end; s += kSectorBytes) {
    const std::string_view sector = seg.substr(s, kSectorBytes);
    if (std::all_of(sector.begin(), sector.end(), [](char c) { return c == 0; })) return true;
  }
  return false;
}

// What follows a damaged record: the well-formed records found by trying every offset.
struct AfterDamage {
  uint64_t records = 0;
  uint64_t first_offset = 0;      // of the first one
  uint32_t batch_start_max = 0;   // largest batch_start among them
};

AfterDamage FindRecordsAfter(std::string_view seg, uint64_t damage, uint64_t nonzero_end,
                             uint64_t record_bytes_max) {
  AfterDamage a;
  uint64_t q = damage + 1;
  while (q < nonzero_end) {
    const Parsed p = ParseAt(seg, q, record_bytes_max);
    if (!p.valid) {
      ++q;
      continue;
    }
    if (a.records++ == 0) a.first_offset = q;
    a.batch_start_max = std::max(a.batch_start_max, p.header.batch_start);
    q = p.end;
  }
  return a;
}

}  // namespace

Result<SegmentScan> ScanSegment(std::string_view seg, const ScanOptions& options,
                                const ScanVisitor& visit) {
  SYNOD_ASSERT(seg.size() >= kSegmentHeaderBytes, "scan of a segment without a header");
  SegmentScan scan;
  uint64_t offset = kSegmentHeaderBytes;
  uint64_t batch_start_max = kSegmentHeaderBytes;
  Parsed p;
  while (offset < seg.size()) {
    p = ParseAt(seg, offset, options.record_bytes_max);
    if (!p.valid) break;
    const std::string_view payload = seg.substr(offset + kRecordHeaderBytes, p.header.length);
    Status s = visit(offset, p.header.type, payload);
    if (!s.ok()) return s;
    ++scan.records;
    batch_start_max = std::max<uint64_t>(batch_start_max, p.header.batch_start);
    offset = p.end;
  }
  scan.valid_bytes = offset;
  const uint64_t nonzero_end = NonzeroEnd(seg, offset);
  if (nonzero_end == offset) return scan;  // clean: zeros or end of file

  scan.damage_offset = offset;
  scan.reason = p.reason;
  if (!options.last_segment) {
    scan.end = SegmentEnd::kCorrupt;
    return scan;
  }
  const AfterDamage after = FindRecordsAfter(seg, offset, nonzero_end, options.record_bytes_max);
  const bool in_final_batch =
      offset >= std::max<uint64_t>(batch_start_max, after.batch_start_max);
  if (after.records == 0 ||
      (in_final_batch && HasZeroSector(seg, offset, after.first_offset))) {
    scan.end = SegmentEnd::kTorn;
    scan.dropped_bytes = nonzero_end - offset;
    scan.dropped_records = after.records;
    return scan;
  }
  scan.end = SegmentEnd::kCorrupt;
  return scan;
}

}  // namespace synod::storage
