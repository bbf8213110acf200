// A measurement, not a test: how long Store::Defragment (Maintenance.Defragment) holds up the
// writes and reads that go on meanwhile, on a store of a given size.
//   mvcc_defrag_bench [bytes=1073741824] [dir=/tmp/synod-defrag-bench]
// Loads `bytes` of 4 KiB incompressible values, deletes every other key and compacts (so that
// the rewrite has garbage to drop, as after an operator's cleanup), then defragments while
//  - one writer applies a 1 KiB put every millisecond, as the apply loop would (one thread,
//    increasing indexes), and times each Apply;
//  - one reader ranges over a random live key in a loop and times each Range;
// and prints each side's latency (p50, p99, p99.9, max) during the defragmentation next to the
// same figures for an equal period before it. The directory is removed at the start and end.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "base/random.h"
#include "mvcc/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using synod::mvcc::RaftIndex;

constexpr size_t kValueBytes = 4096;
constexpr size_t kWriterValueBytes = 1024;
constexpr auto kWriterPeriod = std::chrono::milliseconds(1);

std::string KeyOf(uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "/registry/key-%010llu", static_cast<unsigned long long>(i));
  return buf;
}

std::string RandomBytes(synod::Random& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng.Next();
    std::copy_n(reinterpret_cast<const char*>(&v), std::min<size_t>(8, n - i), s.data() + i);
  }
  return s;
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct Latencies {
  std::vector<double> ms;
  void Print(const char* what) {
    if (ms.empty()) {
      std::printf("  %-34s no samples\n", what);
      return;
    }
    std::sort(ms.begin(), ms.end());
    auto at = [&](double q) { return ms[std::min(ms.size() - 1, size_t(q * ms.size()))]; };
    const auto over = [&](double limit) {
      return ms.end() - std::upper_bound(ms.begin(), ms.end(), limit);
    };
    std::printf(
        "  %-34s n=%-7zu p50 %.3f  p99 %.3f  p99.9 %.3f  max %.1f ms; >50 ms: %td, "
        ">100 ms: %td\n",
        what, ms.size(), at(0.5), at(0.99), at(0.999), ms.back(), over(50), over(100));
  }
};

bool Apply(synod::mvcc::Store& store, uint64_t* index, synod::mvcc::WriteRequest request) {
  auto r = store.Apply(RaftIndex(++*index), request);
  if (!r.ok() && r.error().fatal()) {
    std::fprintf(stderr, "apply failed: %s\n", r.error().ToString().c_str());
    return false;
  }
  return true;
}

// The writer and the reader run from Start to Stop; each records its latencies.
struct Load {
  synod::mvcc::Store* store;
  uint64_t* index;
  uint64_t keys;
  std::atomic<bool> running{false};
  Latencies writes, reads;
  std::thread reader, writer;

  void Start() {
    running = true;
    reader = std::thread([this] {
      synod::Random rng(7);
      while (running) {
        synod::mvcc::RangeRequest req;
        req.key = KeyOf(2 * (rng.Next() % (keys / 2)) + 1);  // the odd keys stay
        const auto t0 = Clock::now();
        auto r = store->Range(req);
        reads.ms.push_back(Ms(Clock::now() - t0));
        if (!r.ok() || r.value().result.kvs.size() != 1) std::abort();
      }
    });
    writer = std::thread([this] {
      synod::Random rng(8);
      auto next = Clock::now();
      uint64_t n = 0;
      while (running) {
        synod::mvcc::PutRequest put;
        put.key = "/load/" + std::to_string(n++ % 10000);
        put.value = RandomBytes(rng, kWriterValueBytes);
        const auto t0 = Clock::now();
        if (!Apply(*store, index, put)) std::abort();
        writes.ms.push_back(Ms(Clock::now() - t0));
        next += kWriterPeriod;
        std::this_thread::sleep_until(next);
      }
    });
  }
  void Stop() {
    running = false;
    reader.join();
    writer.join();
  }
};

}  // namespace

double LoadAverage() {
  double load = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines as they come, also into a file
  const uint64_t bytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : uint64_t{1} << 30;
  const std::string dir = argc > 2 ? argv[2] : "/tmp/synod-defrag-bench";
  std::filesystem::remove_all(dir);
  synod::mvcc::StoreOptions options;
  options.path = dir;
  auto opened = synod::mvcc::Store::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  synod::mvcc::Store& store = *opened.value();
  synod::Random rng(1);
  uint64_t index = 0;
  const uint64_t keys = std::max<uint64_t>(2, bytes / kValueBytes);
  const auto load_start = Clock::now();
  for (uint64_t i = 0; i < keys; ++i) {
    synod::mvcc::PutRequest put;
    put.key = KeyOf(i);
    put.value = RandomBytes(rng, kValueBytes);
    if (!Apply(store, &index, put)) return 1;
  }
  std::printf("loaded %llu keys of %zu bytes in %.1f s; store %.0f MiB\n",
              static_cast<unsigned long long>(keys), kValueBytes,
              Ms(Clock::now() - load_start) / 1000, DirBytes(dir) / 1048576.0);
  for (uint64_t i = 0; i < keys; i += 2) {
    synod::mvcc::DeleteRangeRequest del;
    del.key = KeyOf(i);
    if (!Apply(store, &index, del)) return 1;
  }
  synod::mvcc::CompactRequest compact;
  compact.revision = store.revision();
  if (!Apply(store, &index, compact)) return 1;
  const uint64_t before_bytes = DirBytes(dir);
  std::printf("deleted every other key and compacted; store %.0f MiB\n", before_bytes / 1048576.0);

  // The same load for as long as the defragmentation takes, first without it.
  Load load{&store, &index, keys};
  load.Start();
  const auto defrag_start = Clock::now();
  auto done = store.Defragment();
  const auto defrag_length = Clock::now() - defrag_start;
  load.Stop();
  if (!done.ok()) {
    std::fprintf(stderr, "defragment: %s\n", done.error().ToString().c_str());
    return 1;
  }
  Latencies during_writes = std::move(load.writes), during_reads = std::move(load.reads);
  Load baseline{&store, &index, keys};
  baseline.Start();
  std::this_thread::sleep_for(defrag_length);
  baseline.Stop();
  std::printf("defragmented in %.1f s; store %.0f -> %.0f MiB; load average %.1f on %u cores\n",
              Ms(defrag_length) / 1000, before_bytes / 1048576.0, DirBytes(dir) / 1048576.0,
              LoadAverage(), std::thread::hardware_concurrency());
  std::printf("during the defragmentation:\n");
  during_writes.Print("apply of a 1 KiB put (1 per ms)");
  during_reads.Print("range of one 4 KiB key");
  std::printf("for as long, without it:\n");
  baseline.writes.Print("apply of a 1 KiB put (1 per ms)");
  baseline.reads.Print("range of one 4 KiB key");
  auto integrity = store.CheckIntegrity();
  std::printf("integrity after: %s\n",
              integrity.ok() ? "ok" : integrity.error().ToString().c_str());
  opened.value().reset();
  std::filesystem::remove_all(dir);
  return integrity.ok() ? 0 : 1;
}
