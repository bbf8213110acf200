// The phi accrual failure detector (Hayashibara, Defago, Yared, Katayama 2004). Instead of a
// binary verdict it outputs a suspicion level phi = -log10(P(a heartbeat arrives later than
// now)), where P comes from a normal distribution fitted to a sliding window of recent
// heartbeat inter-arrival times (§3 of the paper). phi = 1 means a 10% chance the peer is
// still fine, phi = 8 about one in 10^8; the caller picks the threshold that matches its cost
// of a mistake. Used for peers a node hears from directly (Raft heartbeats).
//
// Time is in any unit of the caller's choosing (the server uses milliseconds); it is passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace synod::gossip {

struct PhiAccrualOptions {
  // Inter-arrival samples kept (the paper's window size).
  uint32_t window_samples_max = 100;
  // Floor of the fitted standard deviation, so a perfectly regular sender does not make phi
  // jump to infinity at the first small delay.
  double std_dev_min = 10;
  // Added to the mean: a pause this long (a GC, a busy disk) is not yet suspicious.
  double acceptable_pause = 0;
  // Assumed interval before the second heartbeat gives a real sample (mean, and mean / 4 as
  // the standard deviation), so a new peer is judged from its first heartbeat on.
  double first_interval_estimate = 100;
  // The verdict: phi above it means "suspect".
  double threshold = 8;
};

class PhiAccrualDetector {
 public:
  explicit PhiAccrualDetector(const PhiAccrualOptions& options);

  // A heartbeat (any message that proves the peer is up) arrived at `now`.
  // REQUIRES: now is not before the previous heartbeat.
  void Heartbeat(double now);
  // Suspicion level at `now`; 0 before the first heartbeat.
  double Phi(double now) const;
  bool Available(double now) const { return Phi(now) < options_.threshold; }

  size_t samples() const { return count_; }
  double mean() const;
  double std_dev() const;

 private:
  void AddSample(double interval);

  PhiAccrualOptions options_;
  bool seen_ = false;
  double last_ = 0;
  std::vector<double> window_;  // ring buffer of inter-arrival times
  size_t next_ = 0;
  size_t count_ = 0;
  double sum_ = 0;
  double sum_squares_ = 0;
};

// phi for a delay `elapsed` since the last heartbeat under Normal(mean, std_dev).
double PhiOf(double elapsed, double mean, double std_dev);

}  // namespace synod::gossip
