// synod-bench against a real 3-member synod cluster: every workload runs briefly and the counts
// it reports (text and JSON) are checked against the cluster's own state (keys written, leases
// left) and, for watch, against the exact number of events each watcher must receive.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cluster_fixture.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;

class BenchToolTest : public ClusterFixture {
 protected:
  void SetUp() override { StartCluster(); }

  // Runs synod-bench with `args` (endpoints and JSON output added); returns its JSON report.
  nlohmann::json Bench(std::vector<std::string> args, int expect_exit = 0) {
    const std::string json_path = cluster_->dir() + "/bench-" + std::to_string(runs_++) + ".json";
    std::vector<std::string> argv = {SynodBenchPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--endpoints", cluster_->endpoints(), "--json", json_path});
    const CommandResult r = RunCommand(argv, "", {}, 60s);
    last_out_ = r.out;
    EXPECT_EQ(r.exit_code, expect_exit) << r.out << r.err;
    std::ifstream in(json_path);
    if (!in) {
      ADD_FAILURE() << "no JSON report at " << json_path << "\n" << r.out << r.err;
      return nlohmann::json::object();
    }
    return nlohmann::json::parse(in);
  }

  // Keys of the 3-byte runs below ("000" .. "199"); etcd refuses an empty key, so count the
  // two prefixes they start with.
  int64_t KeyCount() {
    int64_t count = 0;
    for (const char* prefix : {"0", "1"}) {
      etcdserverpb::RangeResponse resp;
      const grpc::Status s = cluster_->client(leader_).GetPrefix(prefix, 5s, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      count += resp.count();
    }
    return count;
  }

  int runs_ = 0;
  std::string last_out_;
};

void ExpectCounts(const nlohmann::json& j, uint64_t ok) {
  EXPECT_EQ(j["requests"]["ok"], ok) << j.dump(2);
  EXPECT_EQ(j["requests"]["errors"], 0u);
  EXPECT_EQ(j["latency_ms"]["count"], ok);
  EXPECT_TRUE(j["errors_by_code"].empty());
  EXPECT_GT(j["throughput_rps"].get<double>(), 0);
  const double p50 = j["latency_ms"]["p50"], p99 = j["latency_ms"]["p99"];
  const double max = j["latency_ms"]["max"];
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, p99);
  EXPECT_LE(p99, max);
  uint64_t in_buckets = 0;
  for (const auto& b : j["histogram"]["buckets_lower_upper_count"])
    in_buckets += b[2].get<uint64_t>();
  EXPECT_EQ(in_buckets, ok);
}

TEST_F(BenchToolTest, PutsRangesTxnsAndDeletesAreCountedAndApplied) {
  // 200 sequential puts over 200 keys: exactly the keys 000..199, each written once.
  nlohmann::json put =
      Bench({"put", "--total", "200", "--conns", "2", "--clients", "8", "--key-dist", "sequential",
             "--key-space", "200", "--key-size", "3", "--val-size", "16", "--target", "leader"});
  ExpectCounts(put, 200);
  EXPECT_NE(last_out_.find("200 ok, 0 errors"), std::string::npos) << last_out_;
  EXPECT_EQ(put["targets"].size(), 1u);
  EXPECT_EQ(put["targets"][0], cluster_->endpoint(leader_));
  EXPECT_EQ(KeyCount(), 200);
  etcdserverpb::RangeResponse one;
  ASSERT_TRUE(cluster_->client(leader_).Get("199", 5s, &one).ok());
  ASSERT_EQ(one.kvs_size(), 1);
  EXPECT_EQ(one.kvs(0).value().size(), 16u);
  EXPECT_EQ(one.kvs(0).version(), 1);

  ExpectCounts(Bench({"range", "--total", "300", "--conns", "3", "--clients", "6", "--key-space",
                      "200", "--key-size", "3", "--consistency", "l"}),
               300);
  nlohmann::json followers =
      Bench({"range", "--total", "150", "--conns", "2", "--clients", "4", "--key-space", "200",
             "--key-size", "3", "--consistency", "s", "--target", "followers"});
  ExpectCounts(followers, 150);
  EXPECT_EQ(followers["targets"].size(), 2u);

  // A txn over the same keys bumps their version; zipfian keeps to the space.
  ExpectCounts(Bench({"txn-put", "--total", "100", "--conns", "1", "--clients", "4", "--key-space",
                      "200", "--key-size", "3", "--key-dist", "zipfian"}),
               100);
  EXPECT_EQ(KeyCount(), 200);
  ASSERT_TRUE(cluster_->client(leader_).Get("000", 5s, &one).ok());
  ASSERT_EQ(one.kvs_size(), 1);
  EXPECT_GT(one.kvs(0).version(), 1) << "the hottest zipfian key was not rewritten";

  // Deleting the first 100 keys in order leaves the other 100.
  ExpectCounts(Bench({"delete", "--total", "100", "--conns", "1", "--clients", "1", "--key-dist",
                      "sequential", "--key-space", "200", "--key-size", "3"}),
               100);
  EXPECT_EQ(KeyCount(), 100);
}

TEST_F(BenchToolTest, DurationBoundsTheRunAndBadOptionsExitTwo) {
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json j =
      Bench({"put", "--duration", "1.5", "--conns", "2", "--clients", "20", "--key-space", "1000"});
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(j["requests"]["ok"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["requests"]["errors"], 0u);
  EXPECT_GE(j["elapsed_s"].get<double>(), 1.5);
  EXPECT_LT(wall, 15) << "a 1.5 s run took " << wall << " s";

  const CommandResult bad = RunCommand({SynodBenchPath(), "put", "--clients", "0"}, "", {}, 10s);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--clients"), std::string::npos) << bad.err;
  const CommandResult misplaced =
      RunCommand({SynodBenchPath(), "lease", "--watchers", "5"}, "", {}, 10s);
  EXPECT_EQ(misplaced.exit_code, 2);
  EXPECT_NE(misplaced.err.find("watch workload only"), std::string::npos) << misplaced.err;
}

TEST_F(BenchToolTest, WatchDeliversEveryPutToEveryWatcherOnce) {
  // 20 watchers over 3 streams (7, 7, 6 watch ids), 200 puts at 200/s: 4,000 events exactly.
  nlohmann::json j =
      Bench({"watch", "--watchers", "20", "--conns", "3", "--rate", "200", "--total", "200",
             "--prefix", "w/", "--key-size", "3", "--key-space", "1000", "--val-size", "40"});
  const nlohmann::json& w = j["watch"];
  EXPECT_EQ(j["workload"], "watch");
  EXPECT_EQ(w["watchers_created"], 20u) << j.dump(2);
  EXPECT_EQ(w["streams"], 3u);
  EXPECT_EQ(w["puts_ok"], 200u);
  EXPECT_EQ(w["puts_failed"], 0u);
  EXPECT_EQ(w["events_expected"], 4000u);
  EXPECT_EQ(w["events_delivered"], 4000u);
  EXPECT_EQ(w["missed"], 0u);
  EXPECT_EQ(w["watchers_missing_events"], 0u);
  EXPECT_EQ(w["duplicated"], 0u);
  EXPECT_EQ(w["out_of_order"], 0u);
  EXPECT_EQ(w["canceled"], 0u);
  EXPECT_EQ(w["stray_events"], 0u);
  EXPECT_TRUE(w["drained"].get<bool>());
  EXPECT_EQ(w["put_latency_ms"]["count"], 200u);
  // Open loop: put i is due at i / rate, so 200 puts at 200/s take at least 0.995 s to send.
  EXPECT_GE(w["put_send_s"].get<double>(), 0.99);
  EXPECT_EQ(j["options"]["watchers"], 20u);
  ExpectCounts(j, 4000);
  EXPECT_NE(last_out_.find("every watcher saw every put once"), std::string::npos) << last_out_;

  // The puts landed under the prefix: keys w/000 .. w/199, each value the 32-byte stamp
  // (sequence number, send time) then filler to 40 bytes.
  etcdserverpb::RangeResponse resp;
  ASSERT_TRUE(cluster_->client(leader_).GetPrefix("w/", 5s, &resp).ok());
  EXPECT_EQ(resp.count(), 200);
  ASSERT_TRUE(cluster_->client(leader_).Get("w/199", 5s, &resp).ok());
  ASSERT_EQ(resp.kvs_size(), 1);
  EXPECT_EQ(resp.kvs(0).value().size(), 40u);
  EXPECT_EQ(resp.kvs(0).value().substr(0, 16), "00000000000000c7");  // put 199
}

TEST_F(BenchToolTest, LeaseCyclesGrantKeepAliveAndRevoke) {
  nlohmann::json j = Bench({"lease", "--total", "60", "--conns", "2", "--clients", "4", "--ttl",
                            "30", "--target", "leader"});
  ExpectCounts(j, 60);
  EXPECT_EQ(j["options"]["ttl_s"], 30);
  for (const char* step : {"grant", "keep-alive", "revoke"}) {
    EXPECT_EQ(j["lease_steps_ms"][step]["count"], 60u) << step;
    EXPECT_GT(j["lease_steps_ms"][step]["p50"].get<double>(), 0) << step;
    // A step is part of its cycle, so no step's median exceeds the cycle's maximum.
    EXPECT_LE(j["lease_steps_ms"][step]["p50"].get<double>(), j["latency_ms"]["max"].get<double>())
        << step;
  }
  // Every lease granted was revoked: none is left on the cluster.
  const CommandResult list =
      RunCommand({EtcdctlPath(), "--endpoints=" + cluster_->endpoints(), "--dial-timeout=3s",
                  "--command-timeout=5s", "lease", "list"},
                 "", {"ETCDCTL_API=3"}, 15s);
  ASSERT_EQ(list.exit_code, 0) << list.out << list.err;
  EXPECT_NE(list.out.find("found 0 leases"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace synod::cluster_test
