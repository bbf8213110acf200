// A quick measurement of the store, not a test: apply throughput of single-put entries with
// 256-byte values, point and range reads, and memory and disk per million keys.
//   mvcc_bench [keys=1000000] [dir=/tmp/synod-mvcc-bench]
// The directory is removed at the start and the end.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/random.h"
#include "mvcc/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using synod::mvcc::RaftIndex;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// CPU time of the calling thread: the cost of applying, whatever else the machine runs.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void Report(const char* what, uint64_t n, double wall, double cpu) {
  std::printf("%s: %llu in %.2f s = %.0f/s (apply thread CPU %.2f s = %.0f/s per core)\n", what,
              static_cast<unsigned long long>(n), wall, static_cast<double>(n) / wall, cpu,
              static_cast<double>(n) / cpu);
}

long RssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

std::string KeyOf(uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "/registry/key-%010llu", static_cast<unsigned long long>(i));
  return buf;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "failed: %s\n", what);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens
  const uint64_t keys = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const std::string dir = argc > 2 ? argv[2] : "/tmp/synod-mvcc-bench";
  std::filesystem::remove_all(dir);
  synod::mvcc::StoreOptions options;
  options.path = dir;
  auto opened = synod::mvcc::Store::Open(options);
  Check(opened.ok(), "open");
  synod::mvcc::Store& store = *opened.value();
  const long rss_start = RssKb();

  // Keys in random order, as a real workload writes them; values of 256 bytes.
  synod::Random rng(1);
  const std::string value(256, 'v');
  uint64_t index = 0;
  auto start = Clock::now();
  double cpu = ThreadCpuSeconds();
  for (uint64_t i = 0; i < keys; ++i) {
    synod::mvcc::PutRequest p;
    p.key = KeyOf(rng.Uniform(keys * 4));
    p.value = value;
    Check(store.Apply(RaftIndex(++index), p).ok(), "put");
  }
  Report("apply: single-put entries, 256 B values", keys, Seconds(start),
         ThreadCpuSeconds() - cpu);

  // Overwrites of existing keys: the put also reads the previous version (for prev_kv/events).
  const uint64_t overwrites = keys / 10;
  start = Clock::now();
  cpu = ThreadCpuSeconds();
  synod::Random again(1);
  for (uint64_t i = 0; i < overwrites; ++i) {
    synod::mvcc::PutRequest p;
    p.key = KeyOf(again.Uniform(keys * 4));
    p.value = value;
    Check(store.Apply(RaftIndex(++index), p).ok(), "overwrite");
  }
  Report("apply: overwrites of existing keys", overwrites, Seconds(start),
         ThreadCpuSeconds() - cpu);

  const uint64_t gets = 100'000;
  start = Clock::now();
  cpu = ThreadCpuSeconds();
  synod::Random reads(1);
  for (uint64_t i = 0; i < gets; ++i) {
    synod::mvcc::RangeRequest r;
    r.key = KeyOf(reads.Uniform(keys * 4));
    Check(store.Range(r).ok(), "get");
  }
  Report("range: one key", gets, Seconds(start), ThreadCpuSeconds() - cpu);

  // Lists of about 250 keys (a prefix spans 1000 key numbers, a quarter of them written),
  // 100 returned: the scan still reads the whole prefix, because the reply counts it.
  const uint64_t scans = 2'000;
  start = Clock::now();
  cpu = ThreadCpuSeconds();
  for (uint64_t i = 0; i < scans; ++i) {
    synod::mvcc::RangeRequest r;
    r.key = KeyOf(reads.Uniform(keys * 4)).substr(0, 21);
    r.range_end = synod::mvcc::PrefixEnd(r.key);
    r.limit = 100;
    Check(store.Range(r).ok(), "scan");
  }
  Report("range: prefix of ~250 keys, limit 100", scans, Seconds(start),
         ThreadCpuSeconds() - cpu);

  const long rss_end = RssKb();
  const uint64_t disk = DirBytes(dir);
  std::printf("memory: RSS %ld MiB at open, %ld MiB after %llu keys (%.0f B/key above start)\n",
              rss_start / 1024, rss_end / 1024, static_cast<unsigned long long>(keys),
              static_cast<double>(rss_end - rss_start) * 1024.0 / static_cast<double>(keys));
  std::printf("disk: %.0f MiB (%.0f B per key version)\n", static_cast<double>(disk) / 1048576.0,
              static_cast<double>(disk) / static_cast<double>(keys + overwrites));
  opened.value().reset();
  std::filesystem::remove_all(dir);
  return 0;
}
