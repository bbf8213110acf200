// Runs one benchmark over gRPC: picks the target members (Maintenance.Status finds the leader),
// opens --conns channels, and keeps --clients requests outstanding with gRPC's callback API,
// so a few gRPC threads drive thousands of clients. Each client sends its next request from
// the completion of the previous one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "histogram.h"
#include "options.h"

namespace synod::bench {

struct RunResult {
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::map<int, uint64_t> errors_by_code;     // gRPC status code -> count
  std::map<int, std::string> error_examples;  // gRPC status code -> first message
  LatencyHistogram latency_ns;                // successful requests only
  double elapsed_s = 0;
  std::vector<std::string> targets;  // endpoints that got connections
  std::string leader;                // as Maintenance.Status named it, if asked
};

// Progress so far, for the once-a-second line.
struct Progress {
  double elapsed_s = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
};

// The addresses (host:port) the connections go to, per --target; asks every endpoint's
// Maintenance.Status when the leader matters. `leader` gets the leader's address if known.
Result<std::vector<std::string>> ChooseTargets(const BenchOptions& options, std::string* leader);

// Runs the workload against `targets`; `progress` is called about once a second.
Result<RunResult> RunBenchmark(const BenchOptions& options, const std::vector<std::string>& targets,
                               const std::function<void(const Progress&)>& progress);

}  // namespace synod::bench
