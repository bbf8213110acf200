// A bounded multi-producer queue feeding the node's event loop. Producers (gRPC threads, the
// transport) never block: when the queue is full, TryPush fails and the caller answers with an
// error (a full node sheds load instead of growing without limit).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

namespace synod::node {

template <typename T>
class Mailbox {
 public:
  explicit Mailbox(size_t items_max) : items_max_(items_max) {}

  bool TryPush(T item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_ || items_.size() >= items_max_) return false;
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

  // Waits until an item arrives, the deadline passes or the mailbox is closed; then takes
  // everything queued.
  std::deque<T> DrainUntil(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return !items_.empty() || closed_; });
    std::deque<T> out;
    out.swap(items_);
    return out;
  }

  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  const size_t items_max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace synod::node
