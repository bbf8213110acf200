// LeaseTicker: the timer that drives a member's Lessor. Every `interval` it tells the lessor
// whether this member leads (from Node::Info) and proposes a LeaseRevoke for each lease the
// lessor reports expired. A proposal that fails hands the lease back to the lessor, which
// retries on a later tick. Free of gRPC; owns one thread and holds no lock while proposing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

#include "node/node.h"
#include "server/lessor.h"

namespace synod::server {

struct LeaseTickerOptions {
  std::chrono::milliseconds interval{100};    // the heartbeat interval
  std::function<void(std::string_view)> log;  // expiries
};

class LeaseTicker {
 public:
  // Starts the thread. `lessor` and `node` must outlive the ticker, and the lessor must outlive
  // the node (the callbacks of revokes still pending run when the node stops).
  LeaseTicker(const LeaseTickerOptions& options, Lessor* lessor, node::Node* node);
  ~LeaseTicker();  // Stop()s
  LeaseTicker(const LeaseTicker&) = delete;
  LeaseTicker& operator=(const LeaseTicker&) = delete;

  // Joins the thread. Idempotent.
  void Stop();

 private:
  void Run();
  void TickOnce();

  const LeaseTickerOptions opts_;
  Lessor* const lessor_;
  node::Node* const node_;
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace synod::server
