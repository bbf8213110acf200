// The results of a run as text (for people) and JSON (for scripts): throughput, errors by gRPC
// code, latency percentiles and the histogram.
#pragma once

#include <string>

#include "driver.h"
#include "options.h"

namespace synod::bench {

// The canonical name of a gRPC status code ("UNAVAILABLE"), or "CODE_<n>".
std::string GrpcCodeName(int code);
std::string TextReport(const BenchOptions& options, const RunResult& result);
std::string JsonReport(const BenchOptions& options, const RunResult& result);
std::string ProgressLine(const Progress& now, const Progress& before);

}  // namespace synod::bench
