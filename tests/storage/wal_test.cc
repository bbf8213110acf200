// Wal on real files: round trips, rotation, recovery after reopen, torn tails at every byte,
// corruption reports, release of old segments.
#include "storage/wal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "storage/segment_format.h"
#include "test_util.h"

namespace synod::storage {
namespace {

using testing::CutFile;
using testing::FlipByte;
using testing::ReadFile;
using testing::SegmentPaths;
using testing::TempDir;
using testing::WriteFile;
using testing::ZeroRange;

struct Rec {
  uint64_t lsn = 0;
  uint8_t type = 0;
  std::string payload;
  bool operator==(const Rec&) const = default;
};

WalOptions SmallOptions() {
  WalOptions o;
  o.segment_bytes = 64 << 10;
  o.record_bytes_max = 16 << 10;
  o.write_buffer_bytes = 8 << 10;
  return o;
}

struct Opened {
  Status status;
  std::unique_ptr<Wal> wal;
  std::vector<Rec> records;
  RecoveryInfo info;
};

Opened OpenWal(const std::string& dir, const WalOptions& options = SmallOptions()) {
  Opened o;
  auto visit = [&](const WalRecordView& r) {
    o.records.push_back(Rec{r.lsn, r.type, std::string(r.payload)});
    return Status::Ok();
  };
  Result<std::unique_ptr<Wal>> w = Wal::Open(dir, options, visit, &o.info);
  if (w.ok()) {
    o.wal = std::move(w.value());
  } else {
    o.status = w.status();
  }
  return o;
}

std::string Payload(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('A' + (seed * 7 + i) % 50);
  return s;
}

// Appends `n` records (sizes vary with the LSN), syncing after each; returns them.
std::vector<Rec> AppendRecords(Wal* wal, int n, size_t size = 100) {
  std::vector<Rec> out;
  for (int i = 0; i < n; ++i) {
    const uint64_t lsn = wal->next_lsn();
    Rec r{lsn, static_cast<uint8_t>(1 + lsn % 5), Payload(size + lsn % 13, lsn)};
    Result<uint64_t> got = wal->Append(r.type, r.payload);
    EXPECT_TRUE(got.ok());
    EXPECT_EQ(got.value(), lsn);
    EXPECT_TRUE(wal->Sync().ok());
    out.push_back(r);
  }
  return out;
}

TEST(Wal, RecordsRoundTripAcrossReopen) {
  TempDir dir;
  std::vector<Rec> written;
  {
    Opened o = OpenWal(dir.path());
    ASSERT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_TRUE(o.records.empty());
    EXPECT_EQ(o.info.next_lsn, 1u);
    written = AppendRecords(o.wal.get(), 50);
    EXPECT_EQ(o.wal->stats().syncs, 50u);
  }
  {
    Opened o = OpenWal(dir.path());
    ASSERT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_EQ(o.records, written);
    EXPECT_EQ(o.info.next_lsn, 51u);
    EXPECT_FALSE(o.info.torn_tail);
    std::vector<Rec> more = AppendRecords(o.wal.get(), 5);
    written.insert(written.end(), more.begin(), more.end());
  }
  Opened o = OpenWal(dir.path());
  ASSERT_TRUE(o.status.ok());
  EXPECT_EQ(o.records, written);
}

TEST(Wal, RecordsNeverSyncedAreLostAsInACrash) {
  TempDir dir;
  {
    Opened o = OpenWal(dir.path());
    (void)AppendRecords(o.wal.get(), 3);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(o.wal->Append(1, Payload(50, i)).ok());
  }  // destroyed without Sync: the buffered records never reached the file
  Opened o = OpenWal(dir.path());
  ASSERT_TRUE(o.status.ok());
  EXPECT_EQ(o.records.size(), 3u);
  EXPECT_FALSE(o.info.torn_tail);
}

TEST(Wal, OneSyncCoversManyRecords) {
  TempDir dir;
  Opened o = OpenWal(dir.path());
  ASSERT_TRUE(o.status.ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(o.wal->Append(1, Payload(50, i)).ok());
  EXPECT_EQ(o.wal->stats().syncs, 0u);
  ASSERT_TRUE(o.wal->Sync().ok());
  ASSERT_TRUE(o.wal->Sync().ok());  // nothing new: no second fdatasync
  EXPECT_EQ(o.wal->stats().syncs, 1u);
  o.wal.reset();
  EXPECT_EQ(OpenWal(dir.path()).records.size(), 100u);
}

TEST(Wal, RotatesIntoNewSegmentsAndReadsThemInOrder) {
  TempDir dir;
  std::vector<Rec> written;
  {
    Opened o = OpenWal(dir.path());
    ASSERT_TRUE(o.status.ok());
    written = AppendRecords(o.wal.get(), 60, 3000);  // ~180 KiB over 64 KiB segments
    EXPECT_GE(o.wal->segments().size(), 3u);
  }
  const std::vector<std::string> paths = SegmentPaths(dir.path());
  ASSERT_GE(paths.size(), 3u);
  EXPECT_EQ(std::filesystem::path(paths[0]).filename(), "0000000000000001-0000000000000001.wal");
  for (const std::string& p : paths) EXPECT_EQ(std::filesystem::file_size(p), 64u << 10);
  Opened o = OpenWal(dir.path());
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.records, written);
  EXPECT_EQ(o.info.segments, paths.size());
  // Each segment's name carries the LSN of its first record.
  for (const SegmentInfo& s : o.wal->segments()) {
    EXPECT_EQ(s.path, dir.path() + "/" + SegmentFileName(SegmentHeader{s.seq, s.first_lsn}));
  }
}

TEST(Wal, RecordLargerThanTheWriteBufferGoesStraightThrough) {
  TempDir dir;
  {
    Opened o = OpenWal(dir.path());
    ASSERT_TRUE(o.status.ok());
    ASSERT_TRUE(o.wal->Append(1, "small").ok());
    ASSERT_TRUE(o.wal->Append(2, Payload(12 << 10, 3)).ok());
    ASSERT_TRUE(o.wal->Append(3, "after").ok());
    ASSERT_TRUE(o.wal->Sync().ok());
  }
  Opened o = OpenWal(dir.path());
  ASSERT_EQ(o.records.size(), 3u);
  EXPECT_EQ(o.records[1].payload, Payload(12 << 10, 3));
  EXPECT_EQ(o.records[2].payload, "after");
}

TEST(Wal, OversizedRecordIsRefused) {
  TempDir dir;
  Opened o = OpenWal(dir.path());
  Result<uint64_t> r = o.wal->Append(1, std::string((16 << 10) + 1, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kLimitExceeded);
  EXPECT_TRUE(o.wal->Append(1, "fine").ok());  // a refused record does not fail the log
}

// Cuts the file inside the last record at every byte, both as a short file and as zeros in
// preallocated space: recovery keeps every earlier record and reports the tear.
TEST(Wal, TornTailAtEveryByteOfTheLastRecordIsTruncated) {
  TempDir dir;
  std::vector<Rec> written;
  {
    Opened o = OpenWal(dir.path());
    written = AppendRecords(o.wal.get(), 6);
  }
  const std::string path = SegmentPaths(dir.path()).at(0);
  const std::string pristine = ReadFile(path);
  uint64_t last_offset = kSegmentHeaderBytes;
  for (size_t i = 0; i + 1 < written.size(); ++i) {
    last_offset += kRecordHeaderBytes + written[i].payload.size();
  }
  const uint64_t end = last_offset + kRecordHeaderBytes + written.back().payload.size();
  const std::vector<Rec> kept(written.begin(), written.end() - 1);
  for (uint64_t cut = last_offset + 1; cut < end; ++cut) {
    for (bool zero_fill : {false, true}) {
      if (zero_fill) {
        WriteFile(path, pristine);
        ZeroRange(path, cut, end);
      } else {
        WriteFile(path, pristine.substr(0, cut));
      }
      Opened o = OpenWal(dir.path());
      ASSERT_TRUE(o.status.ok()) << "cut " << cut << ": " << o.status.ToString();
      EXPECT_EQ(o.records, kept) << "cut " << cut;
      EXPECT_TRUE(o.info.torn_tail);
      // Counted up to the last nonzero byte: zeros inside the cut record are not junk.
      EXPECT_GT(o.info.torn_bytes, 0u);
      EXPECT_LE(o.info.torn_bytes, cut - last_offset);
      EXPECT_NE(o.info.warning.find(path + " at offset " + std::to_string(last_offset)),
                std::string::npos)
          << o.info.warning;
      EXPECT_EQ(o.wal->next_lsn(), written.back().lsn);
    }
  }
  // After the repair the log continues where the valid records end, and stays clean.
  {
    Opened o = OpenWal(dir.path());
    EXPECT_FALSE(o.info.torn_tail);  // the previous open already repaired it
    EXPECT_EQ(std::filesystem::file_size(path), 64u << 10);
    ASSERT_TRUE(o.wal->Append(9, "replacement").ok());
    ASSERT_TRUE(o.wal->Sync().ok());
  }
  Opened o = OpenWal(dir.path());
  ASSERT_TRUE(o.status.ok());
  ASSERT_EQ(o.records.size(), kept.size() + 1);
  EXPECT_EQ(o.records.back(), (Rec{written.back().lsn, 9, "replacement"}));
  EXPECT_FALSE(o.info.torn_tail);
}

TEST(Wal, FlippedByteInAMiddleRecordRefusesToStart) {
  TempDir dir;
  std::vector<Rec> written;
  {
    Opened o = OpenWal(dir.path());
    written = AppendRecords(o.wal.get(), 6);
  }
  const std::string path = SegmentPaths(dir.path()).at(0);
  uint64_t third = kSegmentHeaderBytes;
  for (size_t i = 0; i < 2; ++i) third += kRecordHeaderBytes + written[i].payload.size();
  FlipByte(path, third + kRecordHeaderBytes + 10);  // inside the payload of record 3
  Opened o = OpenWal(dir.path());
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.status.code(), ErrorCode::kCorruption);
  EXPECT_EQ(o.status.message(), "wal: corrupt record in " + path + " at offset " +
                                    std::to_string(third) + " (crc mismatch); refusing to start");
}

TEST(Wal, DamageInAnOlderSegmentRefusesToStart) {
  TempDir dir;
  {
    Opened o = OpenWal(dir.path());
    (void)AppendRecords(o.wal.get(), 60, 3000);
  }
  const std::vector<std::string> paths = SegmentPaths(dir.path());
  ASSERT_GE(paths.size(), 2u);
  // The first segment's last record ends where its zeros begin; damage its final byte.
  const std::string bytes = ReadFile(paths[0]);
  uint64_t last_nonzero = bytes.size() - 1;
  while (bytes[last_nonzero] == 0) --last_nonzero;
  FlipByte(paths[0], last_nonzero);
  Opened o = OpenWal(dir.path());
  ASSERT_EQ(o.status.code(), ErrorCode::kCorruption);
  EXPECT_NE(o.status.message().find(paths[0]), std::string::npos) << o.status.message();
}

TEST(Wal, MissingSegmentRefusesToStart) {
  TempDir dir;
  {
    Opened o = OpenWal(dir.path());
    (void)AppendRecords(o.wal.get(), 60, 3000);
  }
  const std::vector<std::string> paths = SegmentPaths(dir.path());
  ASSERT_GE(paths.size(), 3u);
  std::filesystem::remove(paths[1]);
  Opened o = OpenWal(dir.path());
  ASSERT_EQ(o.status.code(), ErrorCode::kCorruption);
  EXPECT_NE(o.status.message().find("missing"), std::string::npos) << o.status.message();
}

TEST(Wal, DamagedSegmentHeaderRefusesToStart) {
  TempDir dir;
  { Opened o = OpenWal(dir.path()); (void)AppendRecords(o.wal.get(), 2); }
  const std::string path = SegmentPaths(dir.path()).at(0);
  FlipByte(path, 3);
  Opened o = OpenWal(dir.path());
  ASSERT_EQ(o.status.code(), ErrorCode::kCorruption);
  EXPECT_NE(o.status.message().find(path + " at offset 0"), std::string::npos);
}

TEST(Wal, SecondHandleOnTheSameDirectoryIsRefused) {
  TempDir dir;
  Opened first = OpenWal(dir.path());
  ASSERT_TRUE(first.status.ok());
  Opened second = OpenWal(dir.path());
  EXPECT_EQ(second.status.code(), ErrorCode::kUnavailable);
  first.wal.reset();
  EXPECT_TRUE(OpenWal(dir.path()).status.ok());
}

TEST(Wal, LeftoverTemporarySegmentIsRemoved) {
  TempDir dir;
  { Opened o = OpenWal(dir.path()); (void)AppendRecords(o.wal.get(), 2); }
  const std::string temp = dir.sub("0000000000000002-0000000000000003.wal.tmp");
  WriteFile(temp, std::string(100, 'x'));
  Opened o = OpenWal(dir.path());
  ASSERT_TRUE(o.status.ok());
  EXPECT_EQ(o.records.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(temp));
}

TEST(Wal, ReleaseDropsWholeSegmentsBelowAnLsn) {
  TempDir dir;
  std::vector<Rec> written;
  uint64_t keep_from = 0;
  {
    Opened o = OpenWal(dir.path());
    written = AppendRecords(o.wal.get(), 60, 3000);
    const std::vector<SegmentInfo> segs = o.wal->segments();
    ASSERT_GE(segs.size(), 3u);
    // An LSN inside the third segment keeps it and drops the first two.
    keep_from = segs[2].first_lsn;
    ASSERT_TRUE(o.wal->ReleaseBefore(keep_from + 1).ok());
    EXPECT_EQ(o.wal->segments().front().seq, segs[2].seq);
    EXPECT_EQ(o.wal->stats().segments_removed, 2u);
    ASSERT_TRUE(o.wal->ReleaseBefore(1 << 30).ok());  // never the segment being written
    EXPECT_EQ(o.wal->segments().size(), 1u);
    keep_from = o.wal->segments().front().first_lsn;
  }
  Opened o = OpenWal(dir.path());
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.info.first_lsn, keep_from);
  EXPECT_EQ(o.records, std::vector<Rec>(written.begin() + static_cast<ptrdiff_t>(keep_from - 1),
                                        written.end()));
}

TEST(Wal, InvalidOptionsAreRefused) {
  TempDir dir;
  WalOptions o = SmallOptions();
  o.record_bytes_max = o.segment_bytes;  // cannot fit next to the headers
  EXPECT_EQ(OpenWal(dir.path(), o).status.code(), ErrorCode::kInvalidArgument);
  o = SmallOptions();
  o.segment_bytes = 100;
  EXPECT_EQ(OpenWal(dir.path(), o).status.code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace synod::storage
