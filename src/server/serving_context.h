// What the gRPC services share: the node, the state machine, the worker pool, the limits, and
// the accounting of requests in flight. Free of gRPC headers.
//
// Threads: a request enters on a gRPC callback thread, which must never block; it waits for
// Raft (Propose, ReadBarrier) through the node's callbacks, which run on the node's loop
// thread and must be short; everything that reads the store or builds a response runs on the
// executor. Admission bounds the requests in flight, and so the executor's queue.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "node/node.h"
#include "server/executor.h"
#include "server/kv_machine.h"

namespace synod::server {

struct ServingLimits {
  int64_t request_bytes_max = 1536 * 1024;  // --max-request-bytes
  size_t txn_ops_max = 128;                 // --max-txn-ops
  int64_t backend_bytes_quota = int64_t{2} << 30;  // --quota-backend-bytes
  size_t inflight_requests_max = 8192;
};

class ServingContext {
 public:
  ServingContext(node::Node* node, KvMachine* kv, Executor* executor, uint64_t cluster_id,
                 uint64_t member_id, ServingLimits limits)
      : node_(node), kv_(kv), executor_(executor), cluster_id_(cluster_id),
        member_id_(member_id), limits_(limits) {}

  node::Node& node() const { return *node_; }
  const KvMachine& kv() const { return *kv_; }
  const ServingLimits& limits() const { return limits_; }
  uint64_t cluster_id() const { return cluster_id_; }
  uint64_t member_id() const { return member_id_; }

  // Takes a slot for one request; false when inflight_requests_max are in flight (the caller
  // answers "too many requests"). Every true is matched by one Release.
  bool Admit() {
    if (inflight_.fetch_add(1) >= limits_.inflight_requests_max) {
      inflight_.fetch_sub(1);
      return false;
    }
    return true;
  }
  void Release() { inflight_.fetch_sub(1); }

  // Runs `task` on the executor. Admission keeps its queue from filling; should it refuse
  // anyway (stopped), the task runs here rather than leave a client without an answer.
  void Run(const std::function<void()>& task) {
    if (!executor_->Submit(task)) task();
  }

  void set_stopping() { stopping_.store(true); }
  bool stopping() const { return stopping_.load(); }

  // The key space's size as last measured plus the bytes of the writes admitted since
  // (`adding` is this write's), measured again after a second or once 1 MiB was admitted:
  // writes check it against the quota, and a directory listing per write would cost more than
  // the write, while a size only a second old could let a fast writer far past the quota.
  int64_t CachedDiskBytes(int64_t adding = 0);

 private:
  node::Node* const node_;
  KvMachine* const kv_;
  Executor* const executor_;
  const uint64_t cluster_id_;
  const uint64_t member_id_;
  const ServingLimits limits_;
  std::atomic<size_t> inflight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> disk_bytes_{0};
  std::atomic<int64_t> disk_bytes_at_ns_{0};
  std::atomic<int64_t> admitted_bytes_{0};  // since the last measurement
};

}  // namespace synod::server
