// One simulation run: build the world from the options, run the safety phase with faults, heal
// everything and require progress (liveness phase), let clients finish, then check the client
// history for linearizability and fingerprint the final state.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "lincheck/checker.h"
#include "sim/options.h"
#include "sim/time.h"

namespace synod::sim {

struct RunResult {
  uint64_t seed = 0;
  bool ok = false;
  std::string failure;  // the first checker's message
  std::string trace;    // the last events, when the run failed
  std::string warning;  // not a failure (e.g. the linearizability search ran out of budget)
  // The client history in synod-lincheck's format, when it is not linearizable.
  std::string history_dump;
  uint64_t state_hash = 0;
  Micros sim_time_us = 0;
  Micros liveness_us = -1;  // from healing to the first committed proposal
  uint64_t events = 0;
  uint64_t messages = 0;
  uint64_t ops_invoked = 0, ops_ok = 0, ops_unknown = 0;
  uint64_t commits = 0;  // highest index known committed
  uint64_t faults = 0;
  uint32_t lost_nodes = 0;
  std::string fault_summary;
  uint64_t conf_changes = 0, transfers = 0, leaders = 0;
  lincheck::Verdict verdict = lincheck::Verdict::kUnknown;
  uint64_t lincheck_steps = 0;
};

RunResult RunSimulation(const SimOptions& options, FILE* live_trace);

// One line: seed, simulated seconds, ops, commits, faults, state hash, verdict.
std::string SummarizeRun(const RunResult& r);

}  // namespace synod::sim
