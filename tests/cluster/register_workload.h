// A register workload for the fault tests: a few client threads, each doing linearizable
// reads, puts and compare-and-sets (a Txn comparing the value) on a few keys through randomly
// chosen members, recording every operation in an OpHistory. Every written value is unique
// ("c<client>-<n>"), so a read names the one write it saw. In the history, an operation's
// client is 10 * client + the member asked (0-based).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "local_cluster.h"
#include "op_history.h"

namespace synod::cluster_test {

struct RegisterWorkloadOptions {
  int clients = 3;
  int keys = 3;
  std::string key_prefix = "reg/";
  // A request unanswered after this is given up (outcome unknown for writes).
  std::chrono::milliseconds op_timeout{1500};
  // Pause between two operations of one client: keeps the history small enough to check.
  std::chrono::milliseconds think_time{5};
  uint64_t seed = 1;
};

class RegisterWorkload {
 public:
  // `cluster` and `history` must outlive the workload.
  RegisterWorkload(LocalCluster& cluster, OpHistory& history, RegisterWorkloadOptions options);
  ~RegisterWorkload();  // stops the clients

  void Start();
  // Stops every client after its current operation (bounded by op_timeout).
  void Stop();
  // Operations answered ok so far (all clients).
  uint64_t ok_ops() const { return ok_ops_.load(); }

 private:
  void RunClient(int client);

  LocalCluster& cluster_;
  OpHistory& history_;
  const RegisterWorkloadOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ok_ops_{0};
  std::vector<std::thread> threads_;
};

}  // namespace synod::cluster_test
