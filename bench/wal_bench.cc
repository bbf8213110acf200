// Write-ahead log on the real disk: the latency of one 4 KiB record appended and made durable,
// next to the disk's bare pwrite + fdatasync, and group-commit throughput with 1, 8 and 64
// writers that each append a 4 KiB record and wait for it to be durable.
//
//   SYNOD_BENCH_DIR=/path/on/the/disk build/bench/wal_bench --benchmark_counters_tabular=true
//
// The directory defaults to /tmp; it must be on the disk being measured (not tmpfs).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/wal.h"
#include "storage/wal_writer.h"

namespace synod::storage {
namespace {

constexpr size_t kRecordBytes = 4096;

class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("SYNOD_BENCH_DIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/synod-wal-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// Adds p50 and p99 of per-operation latencies as counters.
void ReportLatency(benchmark::State& state, std::vector<double>* micros) {
  if (micros->empty()) return;
  std::sort(micros->begin(), micros->end());
  state.counters["p50_us"] = (*micros)[micros->size() / 2];
  state.counters["p99_us"] = (*micros)[micros->size() * 99 / 100];
}

// The floor: what the disk charges for a 4 KiB pwrite followed by fdatasync, into a
// preallocated file as the WAL writes into its segments.
void BM_RawPwriteFdatasync(benchmark::State& state) {
  BenchDir dir;
  const std::string path = dir.path() + "/raw";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  constexpr off_t kFileBytes = 64 << 20;
  if (fd < 0 || ::posix_fallocate(fd, 0, kFileBytes) != 0 || ::fdatasync(fd) != 0) std::abort();
  const std::string block(kRecordBytes, 'x');
  std::vector<double> micros;
  off_t offset = 0;
  for (auto _ : state) {
    const Clock::time_point t0 = Clock::now();
    if (::pwrite(fd, block.data(), block.size(), offset) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      std::abort();
    }
    micros.push_back(Micros(Clock::now() - t0));
    offset = (offset + static_cast<off_t>(kRecordBytes)) % kFileBytes;
  }
  ::close(fd);
  ReportLatency(state, &micros);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRecordBytes));
}
BENCHMARK(BM_RawPwriteFdatasync)->UseRealTime()->Unit(benchmark::kMicrosecond);

// One writer, no group commit: Wal::Append of a 4 KiB record, then Wal::Sync.
void BM_WalAppendSync(benchmark::State& state) {
  BenchDir dir;
  RecoveryInfo info;
  Result<std::unique_ptr<Wal>> wal =
      Wal::Open(dir.path(), WalOptions{}, [](const WalRecordView&) { return Status::Ok(); },
                &info);
  if (!wal.ok()) std::abort();
  const std::string payload(kRecordBytes, 'w');
  std::vector<double> micros;
  for (auto _ : state) {
    const Clock::time_point t0 = Clock::now();
    if (!wal.value()->Append(1, payload).ok() || !wal.value()->Sync().ok()) std::abort();
    micros.push_back(Micros(Clock::now() - t0));
  }
  ReportLatency(state, &micros);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRecordBytes));
}
BENCHMARK(BM_WalAppendSync)->UseRealTime()->Unit(benchmark::kMicrosecond);

// N writers on one WalWriter, each appending a 4 KiB record and waiting until it is durable,
// in a closed loop. One benchmark iteration is every writer doing kOpsPerWriter appends.
void BM_WalWriterGroupCommit(benchmark::State& state) {
  const int writers = static_cast<int>(state.range(0));
  const int ops_per_writer = std::max(8, 2048 / writers);
  BenchDir dir;
  RecoveryInfo info;
  Result<std::unique_ptr<WalWriter>> opened = WalWriter::Open(
      dir.path(), WalWriterOptions{}, [](const WalRecordView&) { return Status::Ok(); }, &info);
  if (!opened.ok()) std::abort();
  WalWriter& w = *opened.value();
  std::vector<std::vector<double>> micros(static_cast<size_t>(writers));
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < ops_per_writer; ++i) {
          const Clock::time_point t0 = Clock::now();
          Result<uint64_t> lsn = w.Append(1, std::string(kRecordBytes, 'g'));
          if (!lsn.ok() || !w.Wait(lsn.value()).ok()) std::abort();
          micros[static_cast<size_t>(t)].push_back(Micros(Clock::now() - t0));
        }
      });
    }
    for (std::thread& th : threads) th.join();
  }
  const WalWriterStats stats = w.stats();
  if (!w.Close().ok()) std::abort();
  std::vector<double> all;
  for (const auto& m : micros) all.insert(all.end(), m.begin(), m.end());
  ReportLatency(state, &all);
  const int64_t records = static_cast<int64_t>(state.iterations()) * writers * ops_per_writer;
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * static_cast<int64_t>(kRecordBytes));
  state.counters["records_per_sync"] =
      static_cast<double>(stats.records) / static_cast<double>(std::max<uint64_t>(stats.syncs, 1));
}
BENCHMARK(BM_WalWriterGroupCommit)
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->ArgName("writers")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

}  // namespace
}  // namespace synod::storage

BENCHMARK_MAIN();
