// The simulated world's scheduler: a queue of closures ordered by (time, sequence number).
// Ties in time run in the order they were scheduled, so a run depends only on its seed and never
// on heap internals, addresses or hash-table order. One thread, no wall clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/time.h"

namespace synod::sim {

class EventQueue {
 public:
  // pending_events_max bounds the queue: a run that piles up more events than this has a
  // runaway feedback loop, which is a simulator bug (asserted), not a fault to survive.
  explicit EventQueue(size_t pending_events_max) : pending_events_max_(pending_events_max) {}

  Micros now() const { return now_us_; }
  uint64_t events_run() const { return events_run_; }
  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }
  // Time of the earliest pending event. REQUIRES: !empty().
  Micros next_time() const;

  // REQUIRES: when_us >= now().
  void At(Micros when_us, std::function<void()> fn);
  void After(Micros delay_us, std::function<void()> fn) { At(now_us_ + delay_us, std::move(fn)); }

  // Advances time to the earliest event and runs it. Returns false when the queue is empty.
  bool RunOne();

 private:
  struct Event {
    Micros time_us;
    uint64_t seq;
    std::function<void()> fn;
  };
  // Min-heap order for std::push_heap/pop_heap (which build max-heaps).
  static bool Later(const Event& a, const Event& b) {
    if (a.time_us != b.time_us) return a.time_us > b.time_us;
    return a.seq > b.seq;
  }

  std::vector<Event> heap_;
  size_t pending_events_max_;
  Micros now_us_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t events_run_ = 0;
};

}  // namespace synod::sim
