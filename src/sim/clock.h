// Each node's own clock. A node never reads simulated time: it reads a local monotonic clock
// that runs at rate (1 + drift_ppm / 1e6) relative to simulated time, starts at its own
// offset and may jump forward (a VM migration, a monotonic clock that skipped). Raft ticks are
// derived from it by a TickSchedule, like a real tick driver that wakes up and reads
// CLOCK_MONOTONIC.
//
// Drift matters to lease reads (thesis §6.4.1): they assume no clock runs faster than another
// by more than Config::lease_drift_ticks per election timeout, which the simulation sets from
// the largest drift it draws (see options.cc). Forward jumps break that assumption, so the
// simulator only injects them when reads do not rely on leases.
#pragma once

#include <cstdint>

#include "sim/time.h"

namespace synod::sim {

class LocalClock {
 public:
  LocalClock() = default;
  LocalClock(Micros offset_us, int64_t drift_ppm);

  int64_t drift_ppm() const { return drift_ppm_; }
  Micros jumped_us() const { return jumps_us_; }

  // Local reading at simulated time sim_us.
  Micros Now(Micros sim_us) const {
    return offset_us_ + jumps_us_ + sim_us + sim_us * drift_ppm_ / 1'000'000;
  }
  // Earliest simulated time >= not_before_us at which the local clock reads >= local_us.
  Micros SimTimeWhen(Micros local_us, Micros not_before_us) const;
  // The clock steps forward by delta_us (never backward: it is a monotonic clock).
  void JumpForward(Micros delta_us);

 private:
  Micros offset_us_ = 0;
  int64_t drift_ppm_ = 0;
  Micros jumps_us_ = 0;
};

// Turns a local clock into Raft ticks: one tick each time the local clock crosses a multiple
// of the tick interval. A node that was paused, or whose clock jumped, owes every tick it
// missed; the host pays them all before it handles anything else, as a real driver would.
class TickSchedule {
 public:
  explicit TickSchedule(Micros tick_interval_us = 10 * kMillis);

  Micros tick_interval_us() const { return tick_interval_us_; }
  // Starts counting from local time local_now_us (a freshly started process owes nothing).
  void Restart(Micros local_now_us);
  // Ticks owed at local time local_now_us; Consume them once delivered.
  uint64_t Due(Micros local_now_us) const;
  void Consume(uint64_t n) { ticks_done_ += n; }
  // Local time of the next tick boundary.
  Micros NextTickLocal() const;

 private:
  Micros tick_interval_us_;
  uint64_t ticks_done_ = 0;  // tick boundaries passed, counted from local time 0
};

}  // namespace synod::sim
