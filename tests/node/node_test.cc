// The node driver with real threads, a real WAL in a temp dir and an in-process "transport"
// that hands messages straight to the peer's mailbox. Waits are real-time polls with
// deadlines: this layer runs real threads and fsyncs.
#include <gtest/gtest.h>

#include <any>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "node/node.h"

namespace synod::node {
namespace {

using namespace std::chrono_literals;
using raft::LogIndex;
using raft::NodeId;

// "key=value" puts; the result is the previous value.
class MapMachine : public StateMachine {
 public:
  std::any Apply(LogIndex index, std::string_view command) override {
    std::lock_guard<std::mutex> lock(mu_);
    applied_ = index;
    const size_t eq = command.find('=');
    std::string key(command.substr(0, eq));
    std::string prev = map_[key];
    map_[key] = std::string(command.substr(eq + 1));
    return prev;
  }
  void ApplyEmpty(LogIndex index) override {
    std::lock_guard<std::mutex> lock(mu_);
    applied_ = index;
  }
  LogIndex AppliedIndex() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return applied_;
  }
  Result<std::string> Snapshot() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++snapshot_calls;
    if (fail_snapshots) return Status(ErrorCode::kLimitExceeded, "snapshot refused by the test");
    std::string out;
    for (const auto& [k, v] : map_) out += k + "=" + v + "\n";
    return out;
  }
  Status Restore(std::string_view image, LogIndex index) override {
    std::lock_guard<std::mutex> lock(mu_);
    map_.clear();
    std::istringstream in{std::string(image)};
    std::string line;
    while (std::getline(in, line)) {
      const size_t eq = line.find('=');
      map_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    applied_ = index;
    return Status::Ok();
  }
  // Builds the image on the snapshot job's thread after this long (a large store's packing).
  Result<SnapshotJob> BeginSnapshot() override {
    auto image = Snapshot();
    if (!image.ok()) return image.status();
    return SnapshotJob([this, image = std::move(image.value())]() -> Result<std::string> {
      std::this_thread::sleep_for(std::chrono::milliseconds(job_ms.load()));
      jobs_done.fetch_add(1);
      return image;
    });
  }
  std::atomic<bool> fail_snapshots{false};
  std::atomic<int> snapshot_calls{0};
  std::atomic<int> job_ms{0};
  std::atomic<int> jobs_done{0};

  std::string Get(const std::string& k) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(k);
    return it == map_.end() ? "" : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> map_;
  LogIndex applied_;
};

class Cluster {
 public:
  explicit Cluster(int n, uint64_t snapshot_count = 100000) : n_(n), snapshot_count_(snapshot_count) {
    char tmpl[] = "/tmp/synod-node-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    for (int i = 1; i <= n; ++i) Start(i);
  }
  ~Cluster() {
    for (int i = 1; i <= n_; ++i) Stop(i);
    std::filesystem::remove_all(dir_);
  }

  void Start(int i) {
    machines_[i] = std::make_unique<MapMachine>();
    NodeOptions o;
    o.id = NodeId(i);
    o.data_dir = dir_ + "/n" + std::to_string(i);
    for (int j = 1; j <= n_; ++j) o.initial_voters.push_back(NodeId(j));
    o.tick = 10ms;
    o.election_ticks = 10;
    o.request_timeout = 2000ms;
    o.snapshot_count = snapshot_count_;
    o.snapshot_catchup_entries = 10;
    o.random_seed = 1000 + i;
    o.send = [this](std::vector<raft::Message> msgs) { Route(std::move(msgs)); };
    auto node = Node::Open(o, machines_[i].get());
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    std::lock_guard<std::mutex> lock(mu_);
    nodes_[i] = std::move(node.value());
  }
  void Stop(int i) {
    std::unique_ptr<Node> node;
    {
      std::lock_guard<std::mutex> lock(mu_);
      node = std::move(nodes_[i]);
    }
    if (node) node->Stop();
  }

  Node& node(int i) { return *nodes_.at(i); }
  MapMachine& machine(int i) { return *machines_.at(i); }

  int WaitLeader(std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& [i, n] : nodes_) {
          if (n && n->Info().role == raft::Role::kLeader) return i;
        }
      }
      std::this_thread::sleep_for(5ms);
    }
    return 0;
  }

  Result<std::any> Put(int i, const std::string& kv) {
    std::promise<Result<std::any>> p;
    auto f = p.get_future();
    node(i).Propose(kv, [&p](Result<std::any> r) { p.set_value(std::move(r)); });
    return f.get();
  }
  Status Barrier(int i) {
    std::promise<Status> p;
    auto f = p.get_future();
    node(i).ReadBarrier([&p](Status s) { p.set_value(std::move(s)); });
    return f.get();
  }
  // As a client does: a node that just started knows no leader yet and says so; retry.
  Status BarrierEventually(int i) {
    const auto end = std::chrono::steady_clock::now() + 5s;
    Status s = Barrier(i);
    while (!s.ok() && s.code() == ErrorCode::kNotLeader && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(10ms);
      s = Barrier(i);
    }
    return s;
  }

 private:
  void Route(std::vector<raft::Message> msgs) {
    std::lock_guard<std::mutex> lock(mu_);
    for (raft::Message& m : msgs) {
      auto it = nodes_.find(static_cast<int>(m.to.value));
      if (it == nodes_.end() || !it->second) continue;  // stopped: the message is lost
      std::vector<raft::Message> one;
      one.push_back(std::move(m));
      it->second->Deliver(std::move(one));
    }
  }

  int n_;
  uint64_t snapshot_count_;
  std::string dir_;
  std::mutex mu_;
  std::map<int, std::unique_ptr<Node>> nodes_;
  std::map<int, std::unique_ptr<MapMachine>> machines_;
};

TEST(Node, ProposalsFromAnyMemberCommitEverywhere) {
  Cluster c(3);
  const int leader = c.WaitLeader();
  ASSERT_NE(leader, 0);
  for (int i = 1; i <= 3; ++i) {
    auto r = c.Put(i, "k" + std::to_string(i) + "=v");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(c.Barrier(i).ok());
    EXPECT_EQ(c.machine(i).Get("k1"), "v");
    EXPECT_EQ(c.machine(i).Get("k3"), "v");
  }
}

TEST(Node, ProposerGetsTheStateMachineResult) {
  Cluster c(3);
  ASSERT_NE(c.WaitLeader(), 0);
  ASSERT_TRUE(c.Put(1, "a=1").ok());
  auto r = c.Put(2, "a=2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::any_cast<std::string>(r.value()), "1");
}

TEST(Node, NewLeaderAfterLeaderStopsAndRestartedNodeCatchesUp) {
  Cluster c(3);
  const int leader = c.WaitLeader();
  ASSERT_NE(leader, 0);
  ASSERT_TRUE(c.Put(leader, "x=1").ok());
  c.Stop(leader);
  const int next = c.WaitLeader();
  ASSERT_NE(next, 0);
  ASSERT_NE(next, leader);
  ASSERT_TRUE(c.Put(next, "x=2").ok());
  c.Start(leader);  // from its WAL
  ASSERT_TRUE(c.BarrierEventually(leader).ok());
  EXPECT_EQ(c.machine(leader).Get("x"), "2");
}

TEST(Node, SnapshotsCompactTheLogAndRestartRestoresFromThem) {
  Cluster c(3, /*snapshot_count=*/20);
  const int leader = c.WaitLeader();
  ASSERT_NE(leader, 0);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(c.Put(leader, "k" + std::to_string(i) + "=v").ok());
  const int follower = leader == 1 ? 2 : 1;
  ASSERT_TRUE(c.Barrier(follower).ok());
  EXPECT_GT(c.node(follower).Info().snapshot_index, LogIndex(1));
  c.Stop(follower);
  c.Start(follower);
  ASSERT_TRUE(c.BarrierEventually(follower).ok());
  EXPECT_EQ(c.machine(follower).Get("k0"), "v");
  EXPECT_EQ(c.machine(follower).Get("k59"), "v");
}

// A failing snapshot is not tried again on every Ready (each try logs): the next waits a
// quarter of snapshot_count entries.
TEST(Node, FailedSnapshotIsRetriedAfterMoreEntriesNotEveryReady) {
  Cluster c(1, /*snapshot_count=*/20);
  c.machine(1).fail_snapshots = true;
  ASSERT_EQ(c.WaitLeader(), 1);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(c.Put(1, "k" + std::to_string(i) + "=v").ok());
  std::this_thread::sleep_for(100ms);  // idle Readies (heartbeats) would try again too
  const int calls = c.machine(1).snapshot_calls.load();
  EXPECT_GE(calls, 2);
  EXPECT_LE(calls, 60 / 5 + 1) << "retried on every Ready";
  EXPECT_EQ(c.node(1).Info().snapshot_index, LogIndex(1)) << "the log was compacted anyway";
  c.machine(1).fail_snapshots = false;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Put(1, "m" + std::to_string(i) + "=v").ok());
  const auto end = std::chrono::steady_clock::now() + 2s;
  while (c.node(1).Info().snapshot_index == LogIndex(1) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GT(c.node(1).Info().snapshot_index, LogIndex(1)) << "snapshots resume";
}

// The image is built off the node's loop: while a slow job runs, the node goes on committing
// (with the build on the loop, every put would wait for it), the log is compacted once it
// ends, and the entries applied meanwhile bring the next snapshot.
TEST(Node, SnapshotImageIsBuiltOffTheLoop) {
  Cluster c(1, /*snapshot_count=*/20);
  c.machine(1).job_ms = 1500;
  ASSERT_EQ(c.WaitLeader(), 1);
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(c.Put(1, "k" + std::to_string(i) + "=v").ok());
  ASSERT_EQ(c.machine(1).jobs_done.load(), 0) << "the machine was too slow for this test";
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(c.Put(1, "m" + std::to_string(i) + "=v").ok());
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(c.machine(1).jobs_done.load(), 0) << "30 puts waited for the job";
  EXPECT_LT(took, 1000ms);
  EXPECT_EQ(c.node(1).Info().snapshot_index, LogIndex(1)) << "compacted before the image";
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (c.machine(1).jobs_done.load() < 2 && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(c.machine(1).jobs_done.load(), 2) << "the entries applied meanwhile took another";
  while (c.node(1).Info().snapshot_index <= LogIndex(20) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GT(c.node(1).Info().snapshot_index, LogIndex(20));
}

TEST(Node, NoQuorumMeansTimeoutNotSuccess) {
  Cluster c(3);
  const int leader = c.WaitLeader();
  ASSERT_NE(leader, 0);
  for (int i = 1; i <= 3; ++i) {
    if (i != leader) c.Stop(i);
  }
  auto r = c.Put(leader, "lost=1");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == ErrorCode::kTimeout ||
              r.status().code() == ErrorCode::kNotLeader)
      << r.status().ToString();
}

// A read waiting for its index on a leader that loses its quorum fails when the leader steps
// down (check-quorum, one election timeout), not only at the request timeout.
TEST(Node, PendingReadFailsWhenLeaderStepsDown) {
  Cluster c(3);
  const int leader = c.WaitLeader();
  ASSERT_NE(leader, 0);
  for (int i = 1; i <= 3; ++i) {
    if (i != leader) c.Stop(i);
  }
  const auto start = std::chrono::steady_clock::now();
  const Status s = c.Barrier(leader);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kProposalDropped) << s.ToString();
  // Election timeout 100 ms here, request timeout 2 s.
  EXPECT_LT(waited, 1000ms);
}

}  // namespace
}  // namespace synod::node
