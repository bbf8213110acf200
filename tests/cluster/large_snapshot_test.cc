// Snapshots far above the WAL's 8 MiB record limit: the image goes to a file beside the store
// and the Raft snapshot names it, so the log is still compacted and a follower that fell
// behind every log catches up through one (real processes).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster_fixture.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class LargeSnapshotTest : public ClusterFixture {};

// 4,000 puts of 4 KiB values no compression shrinks: 16 MiB of store.
constexpr int kWrites = 4000;
constexpr size_t kValueBytes = 4096;

std::string ValueFor(int i) {
  std::mt19937_64 random(static_cast<uint64_t>(i) + 1);
  std::string value(kValueBytes, '\0');
  for (char& c : value) c = static_cast<char>(random());
  return value;
}

uintmax_t LargestImage(const std::string& dir) {
  uintmax_t largest = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".img") largest = std::max(largest, e.file_size(ec));
  }
  return largest;
}

// The largest "installed a snapshot image of N bytes" in a member's log (found by hand: GCC 12
// warns inside std::regex under the sanitizer build).
uint64_t LargestInstalledImage(const std::string& log) {
  static constexpr std::string_view kPrefix = "installed a snapshot image of ";
  uint64_t largest = 0;
  for (size_t at = log.find(kPrefix); at != std::string::npos; at = log.find(kPrefix, at + 1)) {
    size_t i = at + kPrefix.size();
    uint64_t n = 0;
    bool digits = false;
    for (; i < log.size() && log[i] >= '0' && log[i] <= '9'; ++i) {
      n = n * 10 + static_cast<uint64_t>(log[i] - '0');
      digits = true;
    }
    if (digits && log.compare(i, 6, " bytes") == 0) largest = std::max(largest, n);
  }
  return largest;
}

TEST_F(LargeSnapshotTest, FollowerCatchesUpThroughASnapshotAboveTheWalRecordLimit) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--snapshot-count=2000"}));
  const int victim = (leader_ + 1) % cluster_->size();
  constexpr int kWriters = 4;
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  auto write_until = [&](int end) {
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&] {
        for (int i = next++; i < end && failed.load() < 10; i = next++) {
          bool ok = false;
          for (int attempt = 0; attempt < 5 && !ok; ++attempt) {
            ok = cluster_->client(leader_).Put("big/" + std::to_string(i), ValueFor(i), 10s).ok();
          }
          if (!ok) ++failed;
        }
      });
    }
    for (std::thread& t : writers) t.join();
    next = end;
  };
  write_until(200);
  cluster_->Kill9(victim);
  write_until(kWrites);
  ASSERT_EQ(failed.load(), 0) << "writes failed on the healthy majority";

  // The leader took snapshots bigger than a WAL record, and none failed.
  const std::string leader_log = cluster_->LogTail(leader_, 1 << 20);
  EXPECT_NE(leader_log.find("snapshot at index"), std::string::npos);
  EXPECT_EQ(leader_log.find("snapshot failed"), std::string::npos);
  EXPECT_GT(LargestImage(cluster_->data_dir(leader_) + "/kv.snapshots"), uintmax_t{8} << 20);

  std::string error;
  ASSERT_TRUE(cluster_->Start(victim, &error)) << error;
  const std::string last = "big/" + std::to_string(kWrites - 1);
  etcdserverpb::RangeResponse r;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    r.Clear();
    if (cluster_->client(victim).Get(last, 5s, &r, /*serializable=*/true).ok() &&
        r.kvs_size() == 1) {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(r.kvs_size(), 1) << "the restarted follower never caught up";
  // The install is logged once the new store serves, a moment after the key showed up.
  EXPECT_TRUE(WaitForLog(victim, "installed a snapshot image", 10s));
  const uint64_t installed = LargestInstalledImage(cluster_->LogTail(victim, 1 << 20));
  EXPECT_GT(installed, uint64_t{8} << 20) << "no snapshot above the WAL record limit installed";
  int wrong = 0;
  for (int i = 0; i < kWrites; i += 37) {
    r.Clear();
    ASSERT_TRUE(cluster_->client(victim).Get("big/" + std::to_string(i), 5s, &r, true).ok());
    if (r.kvs_size() != 1 || r.kvs(0).value() != ValueFor(i)) ++wrong;
  }
  EXPECT_EQ(wrong, 0) << "keys missing or wrong on the restarted follower";
  // The follower saved a received image as a file and keeps a bounded number of them.
  size_t images = 0;
  for (const auto& e : fs::directory_iterator(cluster_->data_dir(victim) + "/kv.snapshots")) {
    images += e.path().extension() == ".img" ? 1 : 0;
  }
  EXPECT_GE(images, 1u);
  EXPECT_LE(images, 3u);
}

}  // namespace
}  // namespace synod::cluster_test
