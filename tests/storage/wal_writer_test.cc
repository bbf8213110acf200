// Group commit: concurrent producers, completion by Wait and by callback, back-pressure, and
// that every acknowledged record is there after reopening.
#include "storage/wal_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace synod::storage {
namespace {

using testing::TempDir;

WalWriterOptions SmallOptions() {
  WalWriterOptions o;
  o.wal.segment_bytes = 256 << 10;
  o.wal.record_bytes_max = 16 << 10;
  o.wal.write_buffer_bytes = 32 << 10;
  o.pending_bytes_max = 1 << 20;
  return o;
}

std::unique_ptr<WalWriter> OpenWriter(const std::string& dir,
                                      const WalWriterOptions& options = SmallOptions()) {
  RecoveryInfo info;
  Result<std::unique_ptr<WalWriter>> w =
      WalWriter::Open(dir, options, [](const WalRecordView&) { return Status::Ok(); }, &info);
  EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.status().ToString());
  return w.ok() ? std::move(w.value()) : nullptr;
}

// Every record in the WAL by LSN, read back with a plain Wal.
std::map<uint64_t, std::string> ReadBack(const std::string& dir) {
  std::map<uint64_t, std::string> out;
  RecoveryInfo info;
  Result<std::unique_ptr<Wal>> w = Wal::Open(
      dir, SmallOptions().wal,
      [&](const WalRecordView& r) {
        out[r.lsn] = std::string(r.payload);
        return Status::Ok();
      },
      &info);
  EXPECT_TRUE(w.ok());
  return out;
}

std::string Tag(int thread, int i) {
  return "t" + std::to_string(thread) + "-" + std::to_string(i) + std::string(200, '.');
}

TEST(WalWriter, ConcurrentAppendersShareFdatasyncsAndLoseNothingAcknowledged) {
  TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  std::vector<std::vector<std::pair<uint64_t, std::string>>> acked(kThreads);
  WalWriterStats stats;
  {
    std::unique_ptr<WalWriter> w = OpenWriter(dir.path());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          Result<uint64_t> lsn = w->Append(1, Tag(t, i));
          ASSERT_TRUE(lsn.ok());
          ASSERT_TRUE(w->Wait(lsn.value()).ok());
          acked[t].emplace_back(lsn.value(), Tag(t, i));
        }
      });
    }
    for (std::thread& th : threads) th.join();
    stats = w->stats();
    ASSERT_TRUE(w->Close().ok());
  }
  EXPECT_EQ(stats.records, uint64_t{kThreads * kPerThread});
  EXPECT_LT(stats.syncs, stats.records) << "group commit never shared an fdatasync";
  EXPECT_GT(stats.batch_records_max, 1u);
  const std::map<uint64_t, std::string> on_disk = ReadBack(dir.path());
  EXPECT_EQ(on_disk.size(), uint64_t{kThreads * kPerThread});
  for (int t = 0; t < kThreads; ++t) {
    uint64_t previous = 0;
    for (const auto& [lsn, payload] : acked[t]) {
      ASSERT_EQ(on_disk.count(lsn), 1u);
      EXPECT_EQ(on_disk.at(lsn), payload);
      EXPECT_GT(lsn, previous);  // one producer's records keep its order
      previous = lsn;
    }
  }
}

TEST(WalWriter, CallbacksRunOnceEachInLsnOrder) {
  TempDir dir;
  std::vector<int> order;  // touched only by the sync thread until Close returns
  std::atomic<int> failures{0};
  {
    std::unique_ptr<WalWriter> w = OpenWriter(dir.path());
    // One producer: its append order is LSN order, so callbacks must come back as 0, 1, ...
    for (int i = 0; i < 500; ++i) {
      Result<uint64_t> r = w->Append(2, Tag(0, i), /*sync=*/true, [&, i](const Status& s) {
        if (!s.ok()) ++failures;
        order.push_back(i);
      });
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r.value(), uint64_t(i + 1));
    }
    ASSERT_TRUE(w->Close().ok());
  }
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(order.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(order[i], i);
}

TEST(WalWriter, BatchOfRecordsGetsConsecutiveLsnsAndOneCallback) {
  TempDir dir;
  std::atomic<int> calls{0};
  {
    std::unique_ptr<WalWriter> w = OpenWriter(dir.path());
    std::vector<WalWriter::Record> batch = {{1, "a"}, {2, "b"}, {3, "c"}};
    Result<uint64_t> last = w->AppendBatch(std::move(batch), true, [&](const Status& s) {
      EXPECT_TRUE(s.ok());
      ++calls;
    });
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(last.value(), 3u);
    ASSERT_TRUE(w->Wait(3).ok());
    ASSERT_TRUE(w->Close().ok());
  }
  EXPECT_EQ(calls.load(), 1);
  const std::map<uint64_t, std::string> on_disk = ReadBack(dir.path());
  EXPECT_EQ(on_disk, (std::map<uint64_t, std::string>{{1, "a"}, {2, "b"}, {3, "c"}}));
}

TEST(WalWriter, BackPressureKeepsPendingBytesUnderTheLimit) {
  TempDir dir;
  WalWriterOptions o = SmallOptions();
  o.pending_bytes_max = 20 << 10;  // room for about four 4 KiB records
  o.pending_records_max = 3;
  constexpr int kThreads = 6;
  constexpr int kPerThread = 50;
  {
    std::unique_ptr<WalWriter> w = OpenWriter(dir.path(), o);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Fire and forget: only back-pressure slows these producers down.
        for (int i = 0; i < kPerThread; ++i) {
          ASSERT_TRUE(w->Append(1, std::string(4 << 10, static_cast<char>('a' + t))).ok());
        }
      });
    }
    for (std::thread& th : threads) th.join();
    ASSERT_TRUE(w->Close().ok());
    EXPECT_LE(w->stats().pending_bytes_peak, o.pending_bytes_max);
    EXPECT_LE(w->stats().batch_records_max, 3u);
  }
  EXPECT_EQ(ReadBack(dir.path()).size(), uint64_t{kThreads * kPerThread});
}

TEST(WalWriter, OversizedAppendsAreRefused) {
  TempDir dir;
  WalWriterOptions o = SmallOptions();
  o.pending_bytes_max = 40 << 10;
  std::unique_ptr<WalWriter> w = OpenWriter(dir.path(), o);
  EXPECT_EQ(w->Append(1, std::string(17 << 10, 'x')).status().code(), ErrorCode::kLimitExceeded);
  std::vector<WalWriter::Record> batch(3, WalWriter::Record{1, std::string(15 << 10, 'y')});
  EXPECT_EQ(w->AppendBatch(std::move(batch), true).status().code(), ErrorCode::kLimitExceeded);
  Result<uint64_t> ok = w->Append(1, "still fine");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), 1u);  // refused appends took no LSN
  EXPECT_TRUE(w->Wait(1).ok());
}

TEST(WalWriter, UnsyncedRecordsAreWrittenThenCoveredByALaterSync) {
  TempDir dir;
  {
    std::unique_ptr<WalWriter> w = OpenWriter(dir.path());
    uint64_t lsn = 0;
    for (int i = 0; i < 10; ++i) lsn = w->Append(1, Tag(1, i), /*sync=*/false).value();
    ASSERT_TRUE(w->Wait(lsn).ok());  // written to the OS, not necessarily fdatasynced
    const uint64_t syncs_before = w->stats().syncs;
    lsn = w->Append(1, "durable", /*sync=*/true).value();
    ASSERT_TRUE(w->Wait(lsn).ok());
    EXPECT_EQ(w->stats().syncs, syncs_before + 1);
    ASSERT_TRUE(w->Close().ok());
  }
  EXPECT_EQ(ReadBack(dir.path()).size(), 11u);
}

TEST(WalWriter, OnSyncReportsEachSyncedBatchOnly) {
  TempDir dir;
  std::atomic<int> syncs{0};
  std::atomic<int64_t> total_ns{0};
  WalWriterOptions o = SmallOptions();
  o.on_sync = [&](std::chrono::nanoseconds d) {
    ++syncs;
    total_ns += d.count();
  };
  std::unique_ptr<WalWriter> w = OpenWriter(dir.path(), o);
  uint64_t lsn = w->Append(1, "unsynced", /*sync=*/false).value();
  ASSERT_TRUE(w->Wait(lsn).ok());
  EXPECT_EQ(syncs.load(), 0);  // a flush is not an fsync
  for (int i = 0; i < 3; ++i) {
    lsn = w->Append(1, Tag(0, i), /*sync=*/true).value();
    ASSERT_TRUE(w->Wait(lsn).ok());  // the observer runs before the batch completes
  }
  EXPECT_EQ(syncs.load(), 3);
  EXPECT_GT(total_ns.load(), 0);
  ASSERT_TRUE(w->Close().ok());
}

TEST(WalWriter, AppendAfterCloseIsUnavailable) {
  TempDir dir;
  std::unique_ptr<WalWriter> w = OpenWriter(dir.path());
  ASSERT_TRUE(w->Append(1, "x").ok());
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(w->Close().ok());  // idempotent
  EXPECT_EQ(w->Append(1, "y").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(ReadBack(dir.path()).size(), 1u);
}

TEST(WalWriter, ReleaseBeforeWaitsForQueuedRecordsAndDropsOldSegments) {
  TempDir dir;
  std::unique_ptr<WalWriter> w = OpenWriter(dir.path());
  uint64_t lsn = 0;
  for (int i = 0; i < 200; ++i) lsn = w->Append(1, std::string(4 << 10, 'z')).value();
  ASSERT_TRUE(w->Wait(lsn).ok());
  ASSERT_GE(w->segments().size(), 3u);
  ASSERT_TRUE(w->ReleaseBefore(lsn).ok());
  EXPECT_EQ(w->segments().size(), 1u);
  EXPECT_TRUE(w->Wait(lsn).ok());
  ASSERT_TRUE(w->Close().ok());
}

}  // namespace
}  // namespace synod::storage

namespace synod::storage {
namespace {

// Writer::kCallerWaits: the sync thread is not woken for the record; the appender's Wait
// writes it, so the completion runs on the appender's own thread. (With kSyncThread the sync
// thread may take it first: which thread runs the callback is then a race.)
TEST(WalWriter, ACallerThatWaitsWritesItsOwnRecord) {
  TempDir dir;
  auto w = OpenWriter(dir.path());
  ASSERT_NE(w, nullptr);
  // Until the new sync thread first sleeps, it takes whatever it finds queued.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> done{false};
    std::thread::id writer;
    Result<uint64_t> lsn = w->AppendBatch(
        {{1, "payload-" + std::to_string(round)}}, /*sync=*/true,
        [&](const Status& s) {
          EXPECT_TRUE(s.ok());
          writer = std::this_thread::get_id();
          done = true;
        },
        WalWriter::Writer::kCallerWaits);
    ASSERT_TRUE(lsn.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_FALSE(done.load()) << "the sync thread wrote a record its appender was to write";
    ASSERT_TRUE(w->Wait(lsn.value()).ok());
    EXPECT_TRUE(done.load());
    EXPECT_EQ(writer, std::this_thread::get_id()) << "round " << round;
  }
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(ReadBack(dir.path()).size(), 20u);
}

}  // namespace
}  // namespace synod::storage
