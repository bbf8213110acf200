#include "gossip/phi_accrual.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace synod::gossip {

namespace {
// phi is capped here: P(later) underflows near 1e-308, and beyond this the answer is "dead"
// at any threshold anyone would choose.
constexpr double kPhiMax = 300;
}  // namespace

double PhiOf(double elapsed, double mean, double std_dev) {
  SYNOD_ASSERT(std_dev > 0, "phi needs a positive standard deviation");
  // P(X > elapsed) for X ~ Normal(mean, std_dev), through erfc for accuracy in the tail.
  const double z = (elapsed - mean) / (std_dev * std::sqrt(2.0));
  const double p_later = 0.5 * std::erfc(z);
  if (p_later <= 0) return kPhiMax;
  return std::min(kPhiMax, -std::log10(p_later));
}

PhiAccrualDetector::PhiAccrualDetector(const PhiAccrualOptions& options) : options_(options) {
  SYNOD_ASSERT(options.window_samples_max > 0, "phi window must hold samples");
  SYNOD_ASSERT(options.std_dev_min > 0, "std_dev_min must be positive");
  SYNOD_ASSERT(options.first_interval_estimate > 0, "first_interval_estimate must be positive");
  window_.resize(options.window_samples_max);
}

void PhiAccrualDetector::AddSample(double interval) {
  if (count_ == window_.size()) {
    const double old = window_[next_];
    sum_ -= old;
    sum_squares_ -= old * old;
  } else {
    ++count_;
  }
  window_[next_] = interval;
  next_ = (next_ + 1) % window_.size();
  sum_ += interval;
  sum_squares_ += interval * interval;
}

void PhiAccrualDetector::Heartbeat(double now) {
  if (seen_) {
    SYNOD_ASSERT(now >= last_, "heartbeat times must not go back");
    AddSample(now - last_);
  }
  seen_ = true;
  last_ = now;
}

double PhiAccrualDetector::mean() const {
  return count_ == 0 ? options_.first_interval_estimate : sum_ / static_cast<double>(count_);
}

double PhiAccrualDetector::std_dev() const {
  double sd = options_.first_interval_estimate / 4;
  if (count_ > 1) {
    const double m = mean();
    const double var = std::max(0.0, sum_squares_ / static_cast<double>(count_) - m * m);
    sd = std::sqrt(var);
  }
  return std::max(sd, options_.std_dev_min);
}

double PhiAccrualDetector::Phi(double now) const {
  if (!seen_) return 0;
  const double elapsed = std::max(0.0, now - last_);
  return PhiOf(elapsed, mean() + options_.acceptable_pause, std_dev());
}

}  // namespace synod::gossip
