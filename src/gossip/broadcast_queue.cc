#include "gossip/broadcast_queue.h"

#include <algorithm>

#include "base/assert.h"

namespace synod::gossip {

BroadcastQueue::BroadcastQueue(uint32_t broadcasts_max) : broadcasts_max_(broadcasts_max) {
  SYNOD_ASSERT(broadcasts_max > 0, "broadcasts_max must be positive");
}

void BroadcastQueue::Push(const Update& u) {
  SYNOD_ASSERT(u.member != kNoMember, "update about member 0");
  for (Entry& e : entries_) {
    if (e.update.member == u.member) {
      e = Entry{u, 0, next_order_++};
      return;
    }
  }
  if (entries_.size() >= broadcasts_max_) {
    auto most_sent =
        std::max_element(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
          if (a.transmits != b.transmits) {
            return a.transmits < b.transmits;
          }
          return a.order > b.order;
        });
    entries_.erase(most_sent);
    ++dropped_;
  }
  entries_.push_back(Entry{u, 0, next_order_++});
}

void BroadcastQueue::Fill(uint32_t transmit_limit, uint32_t count, MemberId skip,
                          std::vector<Update>* out) {
  SYNOD_ASSERT(transmit_limit > 0, "transmit_limit must be positive");
  if (entries_.empty() || count == 0) return;
  scratch_.clear();
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].update.member != skip) scratch_.push_back(i);
  }
  const size_t take = std::min<size_t>(count, scratch_.size());
  std::partial_sort(scratch_.begin(), scratch_.begin() + take, scratch_.end(),
                    [this](uint32_t a, uint32_t b) {
                      const Entry& x = entries_[a];
                      const Entry& y = entries_[b];
                      if (x.transmits != y.transmits) return x.transmits < y.transmits;
                      return x.order > y.order;
                    });
  bool any_done = false;
  for (size_t i = 0; i < take; ++i) {
    Entry& e = entries_[scratch_[i]];
    out->push_back(e.update);
    any_done |= ++e.transmits >= transmit_limit;
  }
  if (any_done) {
    std::erase_if(entries_, [&](const Entry& e) { return e.transmits >= transmit_limit; });
  }
}

}  // namespace synod::gossip
