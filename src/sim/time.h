// Simulated time. One clock for the whole simulated world, in microseconds since the start of a
// run. Plain int64_t with a `_us` suffix on every name keeps the many small computations of
// latencies and deadlines readable; nodes never see it directly (they read their own drifting
// LocalClock, see clock.h).
#pragma once

#include <cstdint>

namespace synod::sim {

using Micros = int64_t;

inline constexpr Micros kMillis = 1000;
inline constexpr Micros kSecond = 1000 * kMillis;

}  // namespace synod::sim
