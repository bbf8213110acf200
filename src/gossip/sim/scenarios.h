// The measurements of docs/membership.md, shared by tools/synod-gossip-sim and the CI-sized
// simulation tests: dissemination speed and cost, crash detection time, and false positives.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gossip/sim/world.h"

namespace synod::gossip::sim {

struct Percentiles {
  double median = 0;
  double p90 = 0;
  double max = 0;
  size_t count = 0;
};
Percentiles Summarize(std::vector<double> values);

struct DisseminationResult {
  // Ticks from an update (a member announcing new metadata) until every running member knows
  // it; one value per update, in gossip rounds (gossip_interval_ticks) and protocol periods.
  Percentiles rounds;
  Percentiles periods;
  size_t unfinished = 0;  // updates that did not reach everyone within the deadline
  double messages_per_member_per_period = 0;
  double updates_per_message = 0;
};

// Runs `updates` updates one after another on a settled world.
DisseminationResult MeasureDissemination(const WorldOptions& options, uint32_t updates);

struct DetectionResult {
  // Protocol periods from a crash until: some member suspects it (SWIM's detection time),
  // some member declares it dead, every running member has it dead.
  Percentiles first_suspect_periods;
  Percentiles first_dead_periods;
  Percentiles all_dead_periods;
  size_t undetected = 0;  // crashes not declared dead by everyone before the run ended
  // Members never crashed nor slow that some member declared dead, and how many such
  // declarations (the false positives of Lifeguard §5).
  uint32_t healthy_declared_dead = 0;
  // Slow members some member declared dead: they miss probe deadlines, so for the protocol
  // they are failing; reported apart from the healthy ones.
  uint32_t slow_declared_dead = 0;
  uint64_t false_dead_events = 0;
  uint64_t false_suspect_events = 0;  // suspicions of healthy members (refuted or not)
  uint32_t healthy_members = 0;
  double messages_per_member_per_period = 0;
  uint32_t slow_members = 0;
  uint32_t max_health_score = 0;  // highest Lifeguard score seen at the end
};

// Runs `periods` protocol periods, crashing one random healthy (not slow) member every
// `crash_every_periods` periods (0: no crashes), and records detection and false positives.
DetectionResult MeasureDetection(const WorldOptions& options, uint32_t periods,
                                 uint32_t crash_every_periods);

}  // namespace synod::gossip::sim
