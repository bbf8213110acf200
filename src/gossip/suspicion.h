// Lifeguard's suspicion timeout (Lifeguard §4.2, "LHA-Suspicion"): a suspicion starts with a
// long timeout that shrinks, logarithmically, as other members independently confirm it. A
// real failure is confirmed quickly by many probers and declared dead early; a healthy member
// falsely suspected by one slow or badly connected prober keeps a long window to refute.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gossip/types.h"

namespace synod::gossip {

struct SuspicionBounds {
  uint64_t min_ticks = 0;
  uint64_t max_ticks = 0;
};

// min = mult_percent/100 * max(1, log10(n)) * probe_interval; max = max_mult * min.
inline SuspicionBounds ComputeSuspicionBounds(uint32_t members, uint32_t probe_interval_ticks,
                                              uint32_t min_mult_percent, uint32_t max_mult) {
  const double scale = std::max(1.0, std::log10(static_cast<double>(std::max(members, 1u))));
  const auto min_ticks = static_cast<uint64_t>(
      std::ceil(min_mult_percent / 100.0 * scale * static_cast<double>(probe_interval_ticks)));
  return SuspicionBounds{std::max<uint64_t>(min_ticks, 1),
                         std::max<uint64_t>(min_ticks, 1) * std::max<uint32_t>(max_mult, 1)};
}

// Timeout after `confirmations` independent confirmations of an expected `expected`.
inline uint64_t SuspicionTimeoutTicks(const SuspicionBounds& b, uint32_t confirmations,
                                      uint32_t expected) {
  if (expected == 0) return b.min_ticks;
  const double frac = std::log(static_cast<double>(confirmations) + 1.0) /
                      std::log(static_cast<double>(expected) + 1.0);
  const double span = static_cast<double>(b.max_ticks - b.min_ticks);
  const double t = static_cast<double>(b.max_ticks) - span * std::min(frac, 1.0);
  return std::max(b.min_ticks, static_cast<uint64_t>(std::floor(t)));
}

// One suspicion this node holds (SWIM §4.2).
struct Suspicion {
  Incarnation incarnation;
  uint64_t start_tick = 0;
  uint64_t deadline_tick = 0;
  // Distinct members that raised this suspicion, the first one included; bounded by
  // Config::suspicion_confirmations_max + 1.
  std::vector<MemberId> accusers;
};

}  // namespace synod::gossip
