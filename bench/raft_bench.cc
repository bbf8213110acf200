// In-process throughput of the Raft core: three RawNodes in one thread, no simulated latency,
// each Ready handled per its contract (MemoryStorage as the "disk"). Measures committed
// entries per second and CPU time per entry for 64-byte entries proposed in batches.
//
//   build/bench/raft_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cstring>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "raft/raw_node.h"
#include "raft/storage.h"

namespace synod::raft {
namespace {

struct BenchNode {
  std::unique_ptr<MemoryStorage> storage = std::make_unique<MemoryStorage>();
  std::unique_ptr<RawNode> raw;
  uint64_t applied = 0;
};

class BenchCluster {
 public:
  explicit BenchCluster(int n) : nodes_(static_cast<size_t>(n)) {
    ConfState cs;
    for (int i = 1; i <= n; ++i) cs.voters.push_back(NodeId(i));
    for (int i = 0; i < n; ++i) {
      Snapshot boot;
      boot.metadata = {cs, LogIndex(1), Term(1)};
      (void)nodes_[i].storage->ApplySnapshot(boot);
      Config c;
      c.id = NodeId(i + 1);
      c.storage = nodes_[i].storage.get();
      c.applied = LogIndex(1);
      c.random_seed = 42;
      c.inflight_msgs_max = 1024;
      nodes_[i].raw = std::move(RawNode::Create(c).value());
    }
    nodes_[0].raw->Campaign();
    while (Pump()) {
    }
  }

  RawNode& leader() { return *nodes_[0].raw; }
  uint64_t leader_applied() const { return nodes_[0].applied; }

  // One round: every node handles its Ready, then every queued message is delivered.
  bool Pump() {
    bool any = false;
    for (auto& n : nodes_) {
      while (n.raw->HasReady()) {
        any = true;
        Ready rd = n.raw->GetReady();
        if (rd.snapshot) (void)n.storage->ApplySnapshot(*rd.snapshot);
        n.storage->Append(rd.entries);
        if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
        for (Message& m : rd.messages) queue_.push_back(std::move(m));
        n.applied += rd.committed_entries.size();
        if (!rd.committed_entries.empty()) {
          // Keep the in-memory log bounded, as a real node compacts after snapshots.
          const LogIndex last = rd.committed_entries.back().index;
          if (last.value > n.storage->FirstIndex().value + 100000) {
            (void)n.storage->Compact(last - 50000);
          }
        }
        n.raw->Advance();
      }
    }
    std::deque<Message> batch;
    batch.swap(queue_);
    for (const Message& m : batch) {
      any = true;
      (void)nodes_[m.to.value - 1].raw->Step(m);
    }
    return any;
  }

 private:
  std::vector<BenchNode> nodes_;
  std::deque<Message> queue_;
};

void BM_ThreeNodeCommit(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  BenchCluster cluster(3);
  const uint64_t start = cluster.leader_applied();
  std::vector<Payload> proposals(batch);
  uint64_t seq = 0;
  for (auto _ : state) {
    for (auto& p : proposals) {
      std::string data(64, 'x');
      std::memcpy(data.data(), &seq, sizeof(seq));
      ++seq;
      p = Payload(std::move(data));
    }
    ProposeResult r = cluster.leader().Propose(proposals);
    if (!r.ok()) state.SkipWithError("proposal refused");
    cluster.Pump();
  }
  while (cluster.Pump()) {
  }
  const uint64_t committed = cluster.leader_applied() - start;
  if (committed < seq) state.SkipWithError("not every proposal committed");
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  state.counters["entries"] = static_cast<double>(committed);
  state.counters["cpu_ns_per_entry"] = benchmark::Counter(
      static_cast<double>(committed), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ThreeNodeCommit)->Arg(1)->Arg(64)->Arg(1024)->Arg(4096)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace synod::raft

BENCHMARK_MAIN();
