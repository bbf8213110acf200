// synod-bench: a load generator for the etcd v3 gRPC API. `synod-bench --help` lists the
// workloads and options; README.md in this folder describes the output.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "driver.h"
#include "options.h"
#include "report.h"

int main(int argc, char** argv) {
  using namespace synod::bench;
  const ParseOutcome parsed = ParseOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.run) {
    std::fprintf(parsed.exit_code == 0 ? stdout : stderr, "%s\n", parsed.message.c_str());
    return parsed.exit_code;
  }
  const BenchOptions& options = parsed.options;

  std::string leader;
  auto targets = ChooseTargets(options, &leader);
  if (!targets.ok()) {
    std::fprintf(stderr, "synod-bench: %s\n", targets.status().message().c_str());
    return 1;
  }
  Progress before;
  auto progress = [&](const Progress& now) {
    if (!options.quiet) std::fprintf(stderr, "%s\n", ProgressLine(now, before).c_str());
    before = now;
  };
  auto result = RunBenchmark(options, targets.value(), progress);
  if (!result.ok()) {
    std::fprintf(stderr, "synod-bench: %s\n", result.status().message().c_str());
    return 1;
  }
  RunResult& r = result.value();
  r.leader = leader;
  std::fputs(TextReport(options, r).c_str(), stdout);
  if (!options.json_path.empty()) {
    std::ofstream out(options.json_path);
    out << JsonReport(options, r);
    if (!out.good()) {
      std::fprintf(stderr, "synod-bench: cannot write %s\n", options.json_path.c_str());
      return 1;
    }
  }
  if (r.ok == 0) return 1;
  return r.watch && r.watch->problems() > 0 ? 3 : 0;
}
