// The verdicts of ScanSegment on segments built in memory: clean ends, torn tails at every
// byte, and damage that must be called corruption.
#include "storage/segment_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/crc32c.h"
#include "storage/segment_format.h"

namespace synod::storage {
namespace {

// Lays out a segment the way Wal does: header, then records whose batch_start is the offset
// where the current write batch began; EndBatch() stands for an fdatasync.
class SegmentBuilder {
 public:
  SegmentBuilder() : bytes_(kSegmentHeaderBytes, '\0') {
    EncodeSegmentHeader(SegmentHeader{1, 1}, bytes_.data());
  }
  void Add(std::string payload, uint8_t type = 7) {
    offsets_.push_back(bytes_.size());
    payloads_.push_back(payload);
    char h[kRecordHeaderBytes];
    EncodeRecordHeader(Crc32c(payload), static_cast<uint32_t>(payload.size()), batch_start_,
                       type, h);
    bytes_.append(h, sizeof(h));
    bytes_.append(payload);
  }
  void EndBatch() { batch_start_ = static_cast<uint32_t>(bytes_.size()); }
  // The file: what was added, then zeros up to `size` (preallocated space).
  std::string File(uint64_t size) const {
    std::string f = bytes_;
    if (f.size() < size) f.resize(size, '\0');
    return f;
  }
  uint64_t offset(size_t i) const { return offsets_[i]; }
  uint64_t end() const { return bytes_.size(); }
  const std::vector<std::string>& payloads() const { return payloads_; }

 private:
  std::string bytes_;
  uint32_t batch_start_ = kSegmentHeaderBytes;
  std::vector<uint64_t> offsets_;
  std::vector<std::string> payloads_;
};

std::string Payload(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (seed + i) % 26);
  return s;
}

struct Scanned {
  SegmentScan scan;
  std::vector<std::string> payloads;
};

Scanned Scan(const std::string& seg, bool last = true) {
  Scanned out;
  auto visit = [&](uint64_t, uint8_t, std::string_view payload) {
    out.payloads.emplace_back(payload);
    return Status::Ok();
  };
  Result<SegmentScan> r = ScanSegment(seg, ScanOptions{last, 1 << 20}, visit);
  EXPECT_TRUE(r.ok());
  if (r.ok()) out.scan = r.value();
  return out;
}

SegmentBuilder FiveRecords(bool batch_per_record) {
  SegmentBuilder b;
  for (int i = 0; i < 5; ++i) {
    b.Add(Payload(40 + 10 * i, static_cast<char>(i)));
    if (batch_per_record) b.EndBatch();
  }
  return b;
}

TEST(SegmentScan, RecordsThenZerosEndCleanly) {
  SegmentBuilder b = FiveRecords(false);
  Scanned s = Scan(b.File(8192));
  EXPECT_EQ(s.scan.end, SegmentEnd::kClean);
  EXPECT_EQ(s.scan.records, 5u);
  EXPECT_EQ(s.scan.valid_bytes, b.end());
  EXPECT_EQ(s.payloads, b.payloads());
}

TEST(SegmentScan, EmptySegmentEndsCleanly) {
  SegmentBuilder b;
  EXPECT_EQ(Scan(b.File(4096)).scan.end, SegmentEnd::kClean);
  EXPECT_EQ(Scan(b.File(0)).scan.records, 0u);
}

TEST(SegmentScan, TornTailAtEveryByteOfTheLastRecord) {
  SegmentBuilder b = FiveRecords(true);
  const uint64_t last = b.offset(4);
  for (uint64_t cut = last + 1; cut < b.end(); ++cut) {
    // The file ends mid-record (no preallocation) or continues with zeros (preallocated).
    for (bool zero_fill : {false, true}) {
      std::string seg = b.File(b.end()).substr(0, cut);
      if (zero_fill) seg.resize(8192, '\0');
      Scanned s = Scan(seg);
      EXPECT_EQ(s.scan.end, SegmentEnd::kTorn) << "cut " << cut;
      EXPECT_EQ(s.scan.records, 4u) << "cut " << cut;
      EXPECT_EQ(s.scan.valid_bytes, last);
      EXPECT_EQ(s.scan.damage_offset, last);
      EXPECT_EQ(s.payloads.size(), 4u);
    }
  }
}

TEST(SegmentScan, FlippedByteInAMiddleRecordIsCorruption) {
  for (bool batch_per_record : {false, true}) {
    SegmentBuilder b = FiveRecords(batch_per_record);
    const std::string good = b.File(8192);
    for (uint64_t at = b.offset(2); at < b.offset(3); ++at) {
      std::string seg = good;
      seg[at] = static_cast<char>(seg[at] ^ 0x10);
      Scanned s = Scan(seg);
      EXPECT_EQ(s.scan.end, SegmentEnd::kCorrupt) << "byte " << at;
      EXPECT_EQ(s.scan.damage_offset, b.offset(2)) << "byte " << at;
      EXPECT_EQ(s.scan.records, 2u);
      EXPECT_FALSE(s.scan.reason.empty());
    }
  }
}

TEST(SegmentScan, DamageInAnOlderSegmentIsCorruptionEvenAtItsEnd) {
  SegmentBuilder b = FiveRecords(true);
  std::string seg = b.File(8192);
  seg[b.end() - 1] ^= 1;  // would be a torn tail in the last segment
  EXPECT_EQ(Scan(seg, /*last=*/true).scan.end, SegmentEnd::kTorn);
  Scanned s = Scan(seg, /*last=*/false);
  EXPECT_EQ(s.scan.end, SegmentEnd::kCorrupt);
  EXPECT_EQ(s.scan.damage_offset, b.offset(4));
}

TEST(SegmentScan, NonzeroJunkAfterTheLastRecordIsATornTail) {
  SegmentBuilder b = FiveRecords(false);
  std::string seg = b.File(8192);
  for (uint64_t i = b.end(); i < b.end() + 100; ++i) seg[i] = static_cast<char>(i * 37 + 1);
  Scanned s = Scan(seg);
  EXPECT_EQ(s.scan.end, SegmentEnd::kTorn);
  EXPECT_EQ(s.scan.records, 5u);
  EXPECT_EQ(s.scan.dropped_bytes, 100u);
}

// The final batch reached the disk out of order: a sector in its middle never arrived but
// later records of the same batch did. Nothing of that batch was acknowledged.
TEST(SegmentScan, LostSectorInTheFinalBatchIsATornTail) {
  SegmentBuilder b;
  b.Add(Payload(100, 1));
  b.EndBatch();
  for (int i = 0; i < 8; ++i) b.Add(Payload(300, static_cast<char>(i)));
  std::string seg = b.File(8192);
  const uint64_t sector = (b.offset(3) / kSectorBytes + 1) * kSectorBytes;
  std::fill(seg.begin() + static_cast<ptrdiff_t>(sector),
            seg.begin() + static_cast<ptrdiff_t>(sector + kSectorBytes), '\0');
  Scanned s = Scan(seg);
  EXPECT_EQ(s.scan.end, SegmentEnd::kTorn);
  EXPECT_GT(s.scan.dropped_records, 0u);
  EXPECT_LE(s.scan.damage_offset, sector);
  EXPECT_GE(s.scan.records, 1u);
  EXPECT_EQ(s.scan.valid_bytes, s.scan.damage_offset);
}

// The same lost sector in a batch that a later batch follows: that later batch was written
// only after the earlier one's fdatasync returned, so the earlier bytes were durable.
TEST(SegmentScan, LostSectorBeforeALaterBatchIsCorruption) {
  SegmentBuilder b;
  for (int i = 0; i < 8; ++i) b.Add(Payload(300, static_cast<char>(i)));
  b.EndBatch();
  b.Add(Payload(100, 1));
  std::string seg = b.File(8192);
  const uint64_t sector = (b.offset(3) / kSectorBytes + 1) * kSectorBytes;
  std::fill(seg.begin() + static_cast<ptrdiff_t>(sector),
            seg.begin() + static_cast<ptrdiff_t>(sector + kSectorBytes), '\0');
  Scanned s = Scan(seg);
  EXPECT_EQ(s.scan.end, SegmentEnd::kCorrupt);
  EXPECT_LE(s.scan.damage_offset, sector);
}

TEST(SegmentScan, RecordLongerThanTheLimitIsBad) {
  SegmentBuilder b;
  b.Add(Payload(100, 1));
  b.EndBatch();
  b.Add(Payload(2000, 2));
  b.EndBatch();
  b.Add(Payload(100, 3));
  Result<SegmentScan> r = ScanSegment(b.File(8192), ScanOptions{true, 1000},
                                      [](uint64_t, uint8_t, std::string_view) {
                                        return Status::Ok();
                                      });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().end, SegmentEnd::kCorrupt);
  EXPECT_EQ(r.value().damage_offset, b.offset(1));
  EXPECT_EQ(r.value().reason, "length over the record limit");
}

TEST(SegmentScan, VisitorErrorStopsTheScan) {
  SegmentBuilder b = FiveRecords(false);
  int seen = 0;
  Result<SegmentScan> r =
      ScanSegment(b.File(4096), ScanOptions{true, 1 << 20}, [&](uint64_t, uint8_t, auto) {
        return ++seen == 3 ? Status(ErrorCode::kCorruption, "bad payload") : Status::Ok();
      });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bad payload");
  EXPECT_EQ(seen, 3);
}

TEST(SegmentFormat, HeaderRoundTripAndDamage) {
  char h[kSegmentHeaderBytes];
  EncodeSegmentHeader(SegmentHeader{7, 1234}, h);
  Result<SegmentHeader> d = DecodeSegmentHeader(std::string_view(h, sizeof(h)));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value(), (SegmentHeader{7, 1234}));
  h[10] ^= 1;
  EXPECT_EQ(DecodeSegmentHeader(std::string_view(h, sizeof(h))).status().code(),
            ErrorCode::kCorruption);
}

TEST(SegmentFormat, FileNamesSortBySequence) {
  const std::string name = SegmentFileName(SegmentHeader{1, 1});
  EXPECT_EQ(name, "0000000000000001-0000000000000001.wal");
  SegmentHeader h;
  ASSERT_TRUE(ParseSegmentFileName(SegmentFileName(SegmentHeader{0xabc, 0xdef}), &h));
  EXPECT_EQ(h, (SegmentHeader{0xabc, 0xdef}));
  EXPECT_FALSE(ParseSegmentFileName("0000000000000001-0000000000000001.wal.tmp", &h));
  EXPECT_FALSE(ParseSegmentFileName("LOCK", &h));
  EXPECT_LT(SegmentFileName(SegmentHeader{9, 100}), SegmentFileName(SegmentHeader{10, 1}));
}

}  // namespace
}  // namespace synod::storage
