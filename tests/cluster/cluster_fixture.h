// What every real-process test starts from: the paths of the binaries under test and a
// fixture that starts a cluster, waits for its leader, and prints the members' logs when the
// test failed.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "local_cluster.h"

namespace synod::cluster_test {

// The binaries under test: an environment variable (SYNOD_BINARY, SYNOD_ETCDCTL,
// SYNOD_BENCH_BINARY) or what the build produced / found.
std::string SynodPath();
std::string EtcdctlPath();
std::string SynodBenchPath();

struct ClusterSpec {
  int size = 3;
  std::vector<std::string> flags;
  bool serve_metrics = false;      // LocalCluster::ServeMetrics()
  bool needs_etcdctl = false;      // skip the test when etcdctl is missing
  std::vector<std::string> hosts;  // LocalCluster::UseHosts() when not empty
};

class ClusterFixture : public ::testing::Test {
 protected:
  // Starts the cluster and waits up to 15 s for a leader (leader_); skips the test when a
  // binary it needs is missing. Call through ASSERT_NO_FATAL_FAILURE or check HasFatalFailure.
  void StartCluster(ClusterSpec spec);
  void StartCluster(std::vector<std::string> flags = {}) {
    StartCluster(ClusterSpec{3, std::move(flags), false, false});
  }
  void TearDown() override;

  // True once member i serves `key` = `value` from its own store (a serializable read).
  bool WaitForValue(int i, const std::string& key, const std::string& value,
                    std::chrono::milliseconds timeout);
  // True once member i's log holds `text`. A member logs an event after it takes effect, so a
  // test that saw the effect (a key served) waits for the line rather than reading once.
  bool WaitForLog(int i, const std::string& text, std::chrono::milliseconds timeout);
  // True once member i's process has exited.
  bool WaitForExit(int i, std::chrono::milliseconds timeout);

  std::unique_ptr<LocalCluster> cluster_;
  int leader_ = -1;
};

}  // namespace synod::cluster_test
