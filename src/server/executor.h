// A fixed pool of worker threads for the request work that must not run on the node's event
// loop (reading the store after a read barrier, building responses) nor on gRPC's callback
// threads (which must never block). The queue is bounded: Submit refuses work beyond it and
// the caller answers "too many requests".
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace synod::server {

class Executor {
 public:
  Executor(size_t threads, size_t queue_items_max);
  ~Executor();  // Stop()s
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Thread-safe; never blocks. False when the queue is full or the executor stopped.
  [[nodiscard]] bool Submit(std::function<void()> task);
  // Runs what is queued, then joins the workers. Idempotent.
  void Stop();

 private:
  void Work();

  const size_t queue_items_max_;
  std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace synod::server
