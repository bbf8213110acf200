// The bounded queue of messages waiting to be written to one peer. Sans-IO: time is passed
// in, so the bounds and the release order are tested without sockets.
//
// Bounds: at most msgs_max messages and bytes_max bytes (MessageBytes) of ordinary messages,
// and at most one kSnapshot message. A snapshot's payload is shared with the node's storage
// (raft::Payload), so queueing it costs a reference, not its size; allowing only one matches
// Raft, which sends a follower one snapshot at a time (§7).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "raft/types.h"

namespace synod::transport {

using Clock = std::chrono::steady_clock;

// The bytes one message accounts for in queue limits: payloads plus a fixed estimate of the
// headers. Snapshot data is not counted (see above).
size_t MessageBytes(const raft::Message& m);

class PeerQueue {
 public:
  PeerQueue(size_t msgs_max, size_t bytes_max);

  // False if the message does not fit (the caller drops it). A message is never released
  // before `due`, nor before a message pushed earlier: order is kept.
  [[nodiscard]] bool Push(raft::Message m, Clock::time_point due);

  // Moves every message due at `now` to the end of `out`, in order. Returns when the first
  // message held back becomes due, or nullopt if none is left.
  std::optional<Clock::time_point> TakeDue(Clock::time_point now, std::vector<raft::Message>* out);

  // Empties the queue (the link is down), returning its messages in order.
  std::vector<raft::Message> TakeAll();

  size_t msgs() const { return queue_.size(); }
  size_t bytes() const { return bytes_; }
  bool empty() const { return queue_.empty(); }

 private:
  struct Item {
    raft::Message msg;
    size_t bytes;
    Clock::time_point due;
  };
  void PopFront(std::vector<raft::Message>* out);

  const size_t msgs_max_;
  const size_t bytes_max_;
  std::deque<Item> queue_;
  size_t bytes_ = 0;
  size_t snapshots_ = 0;
  Clock::time_point last_due_{};
};

}  // namespace synod::transport
