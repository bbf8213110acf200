// Fault tests with real processes (issue 4, part 5): a 3-member cluster inside a private
// network namespace (netns.h), members on 127.0.0.2-4 and the test's clients on 127.0.0.1;
// links cut with iptables, members killed with SIGKILL, paused with SIGSTOP, one clock skewed
// with libfaketime. Every client operation is recorded (op_history.h) and the history must be
// linearizable (src/lincheck). Recovery times go to the test log ("measured: ...").
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "cluster_fixture.h"
#include "fault_support.h"
#include "netns.h"
#include "op_history.h"
#include "register_workload.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class FaultTest : public ClusterFixture {
 protected:
  void SetUp() override {
    std::string why;
    if (!EnterPrivateNetwork(&why)) GTEST_SKIP() << why;
    std::string error;
    ASSERT_TRUE(Firewall::HealAll(&error)) << error;
  }

  void TearDown() override {
    std::string error;
    if (HasFailure()) std::cerr << "firewall rules:\n" << Firewall::Rules();
    (void)Firewall::HealAll(&error);
    if (cluster_ != nullptr) {
      for (int i = 0; i < cluster_->size(); ++i) (void)cluster_->Signal(i, SIGCONT);
    }
    ClusterFixture::TearDown();
  }

  void StartFaultCluster(std::vector<std::string> flags = {}) {
    ClusterSpec spec;
    spec.flags = std::move(flags);
    spec.hosts = MemberHosts(3);
    StartCluster(std::move(spec));
  }

  // Stops the workload, reads every register through every member (recorded: the final reads
  // make a lost acknowledged write visible to the checker), and checks the whole history.
  void FinishAndCheck(RegisterWorkload& workload, OpHistory& history,
                      const RegisterWorkloadOptions& options, const std::string& name) {
    workload.Stop();
    ASSERT_GE(cluster_->WaitForLeader(15s), 0) << "no leader after the faults";
    for (int i = 0; i < cluster_->size(); ++i) {
      for (int k = 0; k < options.keys; ++k) {
        const std::string key = options.key_prefix + std::to_string(k);
        RecordedGet(*cluster_, i, key, 100, &history);
      }
    }
    const OpHistory::Counts c = history.counts();
    std::cerr << "measured: " << name << " history: " << c.ok << " ok, " << c.fail << " fail, "
              << c.unknown << " unknown operations\n";
    EXPECT_GT(c.ok, 100u) << "too few operations succeeded to say anything";
    const auto start = Clock::now();
    const Status verdict =
        CheckLinearizable(history.Snapshot(), cluster_->dir() + "/" + name + ".history");
    std::cerr << "measured: " << name << " lincheck " << MillisSince(start) << " ms\n";
    EXPECT_TRUE(verdict.ok()) << verdict.ToString();
  }
};

// The leader loses both followers. It must stop confirming reads and writes; the majority
// elects a new leader; the minority answers with errors, never with the stale value it holds.
// After healing: one leader, every member the same data, the history linearizable.
TEST_F(FaultTest, PartitionedLeaderStopsServingMajorityElectsNewLeader) {
  ASSERT_NO_FATAL_FAILURE(StartFaultCluster());
  const int old_leader = leader_;
  std::vector<int> majority;
  for (int i = 0; i < cluster_->size(); ++i) {
    if (i != old_leader) majority.push_back(i);
  }
  ASSERT_TRUE(cluster_->client(old_leader).Put("p/x", "before", 5s).ok());

  OpHistory history;
  RegisterWorkloadOptions options;
  RegisterWorkload workload(*cluster_, history, options);
  workload.Start();
  std::this_thread::sleep_for(2s);

  std::string error;
  ASSERT_TRUE(Firewall::Partition({cluster_->host(old_leader)},
                                  {cluster_->host(majority[0]), cluster_->host(majority[1])},
                                  &error))
      << error;
  const auto cut = Clock::now();

  const int new_leader = WaitForLeaderAmong(*cluster_, majority, 15s);
  ASSERT_GE(new_leader, 0) << "the majority elected no leader within 15 s";
  std::cerr << "measured: new leader after partition " << MillisSince(cut) << " ms\n";

  // The majority commits a new value; the old leader still holds "before".
  ASSERT_TRUE(cluster_->client(new_leader).Put("p/x", "after", 5s).ok());
  const auto after_written = Clock::now();

  // The old leader steps down (check-quorum) and says it knows no leader.
  EXPECT_TRUE(WaitUntilNoLeader(*cluster_, old_leader, 10s))
      << "the cut-off leader still names a leader";
  std::cerr << "measured: old leader stepped down " << MillisSince(cut) << " ms after the cut\n";

  // Minority: linearizable reads and writes fail (an etcd error or the deadline), never
  // answering the stale value.
  etcdserverpb::RangeResponse r;
  const grpc::Status read = cluster_->client(old_leader).Get("p/x", 3s, &r);
  EXPECT_FALSE(read.ok()) << "minority answered a linearizable read: "
                          << (r.kvs_size() > 0 ? r.kvs(0).value() : "(absent)");
  std::cerr << "minority read: " << read.error_message() << "\n";
  const grpc::Status write = cluster_->client(old_leader).Put("p/minority", "x", 3s);
  EXPECT_FALSE(write.ok()) << "minority acknowledged a write";
  std::cerr << "minority write: " << write.error_message() << "\n";

  // The recorder and checker have teeth on real data: a serializable read on the minority
  // does return the stale value, and recorded as if it were linearizable it must be caught.
  {
    OpHistory probe;
    const auto w = probe.Invoke(1, "p/x", lincheck::OpKind::kWrite, "after");
    probe.Ok(w);  // acknowledged above, before this probe's read starts
    const auto id = probe.Invoke(2, "p/x", lincheck::OpKind::kRead);
    ASSERT_TRUE(cluster_->client(old_leader).Get("p/x", 2s, &r, /*serializable=*/true).ok());
    ASSERT_EQ(r.kvs_size(), 1);
    EXPECT_EQ(r.kvs(0).value(), "before");
    probe.Ok(id, r.kvs(0).value());
    const Status caught = CheckLinearizable(probe.Snapshot(), "");
    EXPECT_EQ(caught.code(), ErrorCode::kCorruption) << "a stale read went unnoticed";
  }
  (void)after_written;

  ASSERT_TRUE(Firewall::HealAll(&error)) << error;
  const auto healed = Clock::now();
  const int leader = cluster_->WaitForLeader(15s);
  ASSERT_GE(leader, 0) << "no single leader after healing";
  std::cerr << "measured: one leader agreed " << MillisSince(healed) << " ms after healing\n";
  std::this_thread::sleep_for(2s);  // the workload runs on the healed cluster a little

  ASSERT_NO_FATAL_FAILURE(FinishAndCheck(workload, history, options, "partition"));
  ExpectConverged(*cluster_, {"p/", options.key_prefix});
  ASSERT_TRUE(cluster_->client(old_leader).Get("p/x", 5s, &r).ok());
  ASSERT_EQ(r.kvs_size(), 1);
  EXPECT_EQ(r.kvs(0).value(), "after");
}

}  // namespace
}  // namespace synod::cluster_test
