#include "sim/event_queue.h"

#include <algorithm>

#include "base/assert.h"

namespace synod::sim {

Micros EventQueue::next_time() const {
  SYNOD_ASSERT(!heap_.empty(), "next_time on an empty queue");
  return heap_.front().time_us;
}

void EventQueue::At(Micros when_us, std::function<void()> fn) {
  SYNOD_ASSERT(when_us >= now_us_, "event scheduled in the past");
  SYNOD_ASSERT(heap_.size() < pending_events_max_, "event queue overflow: runaway scheduling");
  heap_.push_back(Event{when_us, next_seq_++, std::move(fn)});
  std::push_heap(heap_.begin(), heap_.end(), Later);
}

bool EventQueue::RunOne() {
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  Event ev = std::move(heap_.back());
  heap_.pop_back();
  SYNOD_ASSERT(ev.time_us >= now_us_, "time went backwards");
  now_us_ = ev.time_us;
  ++events_run_;
  ev.fn();
  return true;
}

}  // namespace synod::sim
