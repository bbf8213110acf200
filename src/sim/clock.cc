#include "sim/clock.h"

#include "base/assert.h"

namespace synod::sim {

LocalClock::LocalClock(Micros offset_us, int64_t drift_ppm)
    : offset_us_(offset_us), drift_ppm_(drift_ppm) {
  SYNOD_ASSERT(offset_us >= 0, "clock offset must be non-negative");
  SYNOD_ASSERT(drift_ppm > -10'000 && drift_ppm < 10'000, "drift beyond 1% is not a clock");
}

Micros LocalClock::SimTimeWhen(Micros local_us, Micros not_before_us) const {
  if (Now(not_before_us) >= local_us) return not_before_us;
  // Invert the linear map, then fix the rounding by a few steps; Now() is monotonic in sim time.
  const Micros base = local_us - offset_us_ - jumps_us_;
  Micros guess = base * 1'000'000 / (1'000'000 + drift_ppm_);
  if (guess < not_before_us) guess = not_before_us;
  while (Now(guess) < local_us) ++guess;
  while (guess > not_before_us && Now(guess - 1) >= local_us) --guess;
  return guess;
}

void LocalClock::JumpForward(Micros delta_us) {
  SYNOD_ASSERT(delta_us >= 0, "monotonic clocks never go back");
  jumps_us_ += delta_us;
}

TickSchedule::TickSchedule(Micros tick_interval_us) : tick_interval_us_(tick_interval_us) {
  SYNOD_ASSERT(tick_interval_us > 0, "tick interval must be positive");
}

void TickSchedule::Restart(Micros local_now_us) {
  ticks_done_ = static_cast<uint64_t>(local_now_us / tick_interval_us_);
}

uint64_t TickSchedule::Due(Micros local_now_us) const {
  const uint64_t passed = static_cast<uint64_t>(local_now_us / tick_interval_us_);
  return passed > ticks_done_ ? passed - ticks_done_ : 0;
}

Micros TickSchedule::NextTickLocal() const {
  return static_cast<Micros>(ticks_done_ + 1) * tick_interval_us_;
}

}  // namespace synod::sim
