// The server's observability pieces in one process: --listen-metrics-urls (flags and TOML),
// the /health and /readyz verdicts, and etcd's health JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/config.h"
#include "server/peer_liveness.h"
#include "server/server_metrics.h"

namespace synod::server {
namespace {

FlagsOutcome Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "synod");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

TEST(MetricsFlags, NoneByDefault) {
  const FlagsOutcome f = Parse({});
  ASSERT_TRUE(f.config) << f.message;
  EXPECT_TRUE(f.config->listen_metrics_urls.empty());
}

TEST(MetricsFlags, CommaListAndRepeated) {
  const FlagsOutcome f = Parse({"--listen-metrics-urls=http://127.0.0.1:1,http://[::1]:2",
                                "--listen-metrics-urls", "http://localhost:3"});
  ASSERT_TRUE(f.config) << f.message;
  EXPECT_EQ(
      f.config->listen_metrics_urls,
      (std::vector<std::string>{"http://127.0.0.1:1", "http://[::1]:2", "http://localhost:3"}));
}

TEST(MetricsFlags, BadUrlIsAUsageError) {
  const FlagsOutcome f = Parse({"--listen-metrics-urls=127.0.0.1:2381"});
  EXPECT_FALSE(f.config);
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_NE(f.message.find("--listen-metrics-urls"), std::string::npos) << f.message;
}

TEST(MetricsFlags, FromTomlFile) {
  char tmpl[] = "/tmp/synod-metrics-flags-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string file = dir + "/synod.toml";
  std::ofstream(file) << "listen-metrics-urls = [\"http://127.0.0.1:9101\", "
                         "\"http://127.0.0.1:9102\"]\n";
  const FlagsOutcome f = Parse({"--config-file=" + file});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(f.config) << f.message;
  EXPECT_EQ(f.config->listen_metrics_urls,
            (std::vector<std::string>{"http://127.0.0.1:9101", "http://127.0.0.1:9102"}));
}

TEST(MetricsFlags, HelpNamesTheFlag) {
  const FlagsOutcome f = Parse({"--help"});
  EXPECT_NE(f.message.find("--listen-metrics-urls"), std::string::npos);
}

node::NodeInfo Info(uint64_t leader, uint64_t applied) {
  node::NodeInfo i;
  i.leader = raft::NodeId(leader);
  i.applied = raft::LogIndex(applied);
  return i;
}

TEST(Health, LeaderKnownIsHealthy) {
  EXPECT_TRUE(CheckHealth(Info(7, 0)).ok);
  const Verdict v = CheckHealth(Info(0, 100));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason, "RAFT NO LEADER");
}

TEST(Health, EtcdJson) {
  EXPECT_EQ(HealthJson(Verdict{true, ""}), "{\"health\":\"true\"}");
  EXPECT_EQ(HealthJson(Verdict{false, "RAFT NO LEADER"}),
            "{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}");
  EXPECT_EQ(HealthJson(Verdict{false, "a \"b\""}),
            "{\"health\":\"false\",\"reason\":\"a \\\"b\\\"\"}");
}

TEST(Ready, WaitsForTheStartCommitIndexThenLatches) {
  bool caught_up = false;
  const raft::LogIndex start(10);
  Verdict v = CheckReady(Info(1, 9), start, &caught_up);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason, "applying the log: applied 9 of 10");
  EXPECT_TRUE(CheckReady(Info(1, 10), start, &caught_up).ok);
  EXPECT_TRUE(caught_up);
  // Caught up once is enough (a snapshot restore may move applied; the start point is met).
  EXPECT_TRUE(CheckReady(Info(1, 3), start, &caught_up).ok);
  v = CheckReady(Info(0, 12), start, &caught_up);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason, "no leader");
}

TEST(Ready, NotCaughtUpWithoutLeaderSaysTheLog) {
  bool caught_up = false;
  EXPECT_EQ(CheckReady(Info(0, 0), raft::LogIndex(5), &caught_up).reason,
            "applying the log: applied 0 of 5");
}

TEST(ServerMetrics, RegistryHasProcessAndWalFigures) {
  ServerMetrics m(0xabc);
  m.WalSyncObserver()(std::chrono::microseconds(1500));
  const std::string text = m.registry().Render();
  EXPECT_NE(text.find("etcd_server_id{server_id=\"abc\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("etcd_disk_wal_fsync_duration_seconds_sum 0.0015\n"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos);
}

// Phi over Raft arrivals (peer_liveness.h): low while a peer is heard every interval, past the
// threshold after a silence of several intervals, and rendered per peer.
TEST(PeerLiveness, PhiRisesWithSilenceAndIsRendered) {
  double now = 0;
  metrics::Registry registry;
  PeerLiveness liveness(RaftPeerPhiOptions(100), [&now] { return now; }, &registry);
  EXPECT_EQ(liveness.Phi(7), 0);
  for (int i = 0; i < 50; ++i) {
    liveness.Heard(7);
    now += 100;
  }
  EXPECT_LT(liveness.Phi(7), 1);
  EXPECT_FALSE(liveness.Suspected(7));
  now += 150;  // a little late: still fine
  EXPECT_FALSE(liveness.Suspected(7));
  now += 1000;  // more than ten intervals of silence
  EXPECT_TRUE(liveness.Suspected(7));
  const std::string text = registry.Render();
  EXPECT_NE(text.find("synod_raft_peer_phi{peer=\"0000000000000007\"}"), std::string::npos)
      << text;
  EXPECT_NE(text.find("synod_raft_peer_suspected{peer=\"0000000000000007\"} 1"),
            std::string::npos)
      << text;
  liveness.Heard(7);  // heard again: no longer suspected
  EXPECT_FALSE(liveness.Suspected(7));
}

}  // namespace
}  // namespace synod::server
