#include "sim/disk.h"

#include <gtest/gtest.h>

namespace synod::sim {
namespace {

std::vector<std::string> Payloads(const ReplayResult& r) {
  std::vector<std::string> out;
  for (const DiskRecord& rec : r.records) out.push_back(rec.payload);
  return out;
}

TEST(SimDisk, SyncedRecordsReplayInOrder) {
  SimDisk d;
  d.Append(RecordType::kEntries, "one");
  d.Append(RecordType::kHardState, "two");
  d.SyncedTo(d.written_bytes());
  Result<ReplayResult> r = d.Replay();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Payloads(r.value()), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(r.value().records[1].type, RecordType::kHardState);
  EXPECT_EQ(r.value().truncated_bytes, 0u);
}

TEST(SimDisk, CrashLosesWhatWasNotSynced) {
  SimDisk d;
  Random rng(1);
  d.Append(RecordType::kEntries, "durable");
  d.SyncedTo(d.written_bytes());
  d.Append(RecordType::kEntries, "volatile");
  const CrashReport report = d.Crash(rng, /*survive_probability=*/0.0);
  EXPECT_EQ(report.kept_unsynced_bytes, 0u);
  EXPECT_EQ(report.lost_bytes, SimDisk::kHeaderBytes + 8);
  Result<ReplayResult> r = d.Replay();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Payloads(r.value()), (std::vector<std::string>{"durable"}));
}

TEST(SimDisk, SyncMarkOnlyCoversWhatWasWrittenBeforeTheSync) {
  SimDisk d;
  Random rng(1);
  d.Append(RecordType::kEntries, "a");
  const uint64_t mark = d.written_bytes();  // sync started here
  d.Append(RecordType::kEntries, "b");      // written while it runs
  d.SyncedTo(mark);
  (void)d.Crash(rng, 0.0);
  Result<ReplayResult> r = d.Replay();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Payloads(r.value()), (std::vector<std::string>{"a"}));
}

TEST(SimDisk, TornTailIsCutOffNotReported) {
  // Over many crashes with unsynced data surviving, tails end inside records (torn) and
  // replay must always succeed, keeping exactly the whole records.
  int torn = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SimDisk d;
    Random rng(seed);
    d.Append(RecordType::kEntries, "synced record");
    d.SyncedTo(d.written_bytes());
    d.Append(RecordType::kEntries, std::string(100, 'x'));
    d.Append(RecordType::kHardState, std::string(50, 'y'));
    const CrashReport report = d.Crash(rng, /*survive_probability=*/1.0);
    torn += report.torn;
    Result<ReplayResult> r = d.Replay();
    ASSERT_TRUE(r.ok()) << "seed " << seed;
    ASSERT_GE(r.value().records.size(), 1u);
    EXPECT_EQ(r.value().records[0].payload, "synced record");
    EXPECT_EQ(report.torn, r.value().truncated_bytes > 0) << "seed " << seed;
    // After the cut the disk holds whole records only; a second replay changes nothing.
    Result<ReplayResult> again = d.Replay();
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value().truncated_bytes, 0u);
    EXPECT_EQ(Payloads(again.value()), Payloads(r.value()));
  }
  EXPECT_GT(torn, 20);
}

TEST(SimDisk, BitFlipBeforeTheTailIsCorruption) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SimDisk d;
    Random rng(seed);
    for (int i = 0; i < 5; ++i) d.Append(RecordType::kEntries, "record " + std::to_string(i));
    d.SyncedTo(d.written_bytes());
    ASSERT_TRUE(d.FlipBit(rng));
    Result<ReplayResult> r = d.Replay();
    ASSERT_FALSE(r.ok()) << "seed " << seed << ": a flip went unnoticed";
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
  }
}

TEST(SimDisk, FlipNeedsADurableSuccessor) {
  SimDisk d;
  Random rng(3);
  EXPECT_FALSE(d.FlipBit(rng));
  d.Append(RecordType::kEntries, "only");
  d.SyncedTo(d.written_bytes());
  EXPECT_FALSE(d.FlipBit(rng));  // damage to the last record would look like a torn write
  d.Append(RecordType::kEntries, "unsynced");
  EXPECT_FALSE(d.FlipBit(rng));  // its successor is not durable
}

TEST(SimDisk, DamagedLastRecordIsATornTail) {
  // Damage at the very end cannot be told from a torn write: it was never acknowledged, so
  // replay cuts it off.
  SimDisk d;
  d.Append(RecordType::kEntries, "keep");
  d.Append(RecordType::kEntries, "tail");
  d.SyncedTo(d.written_bytes());
  d.FlipBitAt(d.written_bytes() - 1, 0);
  Result<ReplayResult> r = d.Replay();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Payloads(r.value()), (std::vector<std::string>{"keep"}));
  EXPECT_EQ(r.value().truncated_bytes, SimDisk::kHeaderBytes + 4);
}

TEST(SimDisk, DamagedLengthIsNeverMistakenForATornTail) {
  // A flipped length could make a record seem to run past the end of the disk; the header
  // checksum catches it.
  SimDisk d;
  d.Append(RecordType::kEntries, "first");
  d.Append(RecordType::kEntries, "second");
  d.SyncedTo(d.written_bytes());
  d.FlipBitAt(2, 3);  // high byte of the first record's length
  Result<ReplayResult> r = d.Replay();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
}

TEST(SimDisk, ReplaceAllIsDurable) {
  SimDisk d;
  Random rng(5);
  d.Append(RecordType::kEntries, "old");
  d.ReplaceAll({{RecordType::kSnapshot, "image"}, {RecordType::kHardState, "hs"}});
  (void)d.Crash(rng, 0.0);
  Result<ReplayResult> r = d.Replay();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Payloads(r.value()), (std::vector<std::string>{"image", "hs"}));
}

}  // namespace
}  // namespace synod::sim
