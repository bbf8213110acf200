// Updates waiting to be piggybacked (SWIM §4.1 "infection-style dissemination"). Each update is
// sent a bounded number of times (about lambda * log n, SWIM §4.1), least-sent first, so fresh
// news overtakes news that has already spread. A newer update about a member replaces the
// queued one: only the latest word about a member is worth a datagram's room.
#pragma once

#include <cstdint>
#include <vector>

#include "gossip/types.h"

namespace synod::gossip {

class BroadcastQueue {
 public:
  explicit BroadcastQueue(uint32_t broadcasts_max);

  // Queues `u`, replacing a queued update about the same member. When full, the most-sent
  // update is dropped (anti-entropy repairs what gossip loses).
  void Push(const Update& u);
  // Appends up to `count` updates to `out`, least-sent and then newest first, skipping updates
  // about `skip` (the caller already added them). Each counts as one transmission; an update
  // sent `transmit_limit` times leaves the queue.
  void Fill(uint32_t transmit_limit, uint32_t count, MemberId skip, std::vector<Update>* out);

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Entry {
    Update update;
    uint32_t transmits = 0;
    uint64_t order = 0;  // higher is newer
  };
  uint32_t broadcasts_max_;
  uint64_t next_order_ = 0;
  uint64_t dropped_ = 0;
  std::vector<Entry> entries_;
  std::vector<uint32_t> scratch_;
};

}  // namespace synod::gossip
