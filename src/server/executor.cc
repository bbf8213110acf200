#include "server/executor.h"

#include "base/assert.h"

namespace synod::server {

Executor::Executor(size_t threads, size_t queue_items_max) : queue_items_max_(queue_items_max) {
  SYNOD_ASSERT(threads > 0 && queue_items_max > 0, "an executor needs threads and a queue");
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

Executor::~Executor() { Stop(); }

bool Executor::Submit(std::function<void()> task) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= queue_items_max_) return false;
    was_empty = queue_.empty();
    queue_.push_back(std::move(task));
  }
  // Only the first task of a burst wakes a worker: a non-empty queue already has one on its
  // way, which wakes the next (Work). The node's event loop submits a whole Ready's answers
  // at once and should not pay a futex call for each of them.
  if (was_empty) cv_.notify_one();
  return true;
}

void Executor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  SYNOD_ASSERT(queue_.empty(), "workers exit only once the queue is drained");
}

void Executor::Work() {
  for (;;) {
    std::function<void()> task;
    bool more = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
      more = !queue_.empty();
    }
    // Tasks left behind get a worker of their own rather than wait for this one (Submit woke
    // only one worker for the whole burst).
    if (more) cv_.notify_one();
    task();
  }
}

}  // namespace synod::server
