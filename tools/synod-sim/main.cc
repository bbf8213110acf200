// synod-sim: runs seeded, deterministic simulations of a synod Raft cluster under faults and
// checks it from outside (Raft invariants, durability, liveness, linearizability).
//
//   synod-sim --seed 42                     one run
//   synod-sim --seed 1 --runs 500 --quiet   seeds 1..500, one summary line each
//   synod-sim --seed 7 --trace              every event of the run, as it happens
//   synod-sim --seed 1 --runs 50 --bug vote_before_persist --expect-failure
//                                           must find the injected bug
//
// Exit status 0 only when every checker passed in every run (with --expect-failure: only when
// some checker failed).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "sim/options.h"
#include "sim/simulation.h"

namespace {

using synod::sim::RunResult;

struct Args {
  uint64_t seed = 1;
  uint64_t runs = 1;
  uint32_t nodes = 5;
  double duration_s = 0;
  std::string bug;
  bool trace = false;
  bool check_determinism = false;
  bool quiet = false;
  bool expect_failure = false;
};

void PrintFailure(const Args& args, const synod::sim::SimOptions& o, const RunResult& r) {
  std::printf("\nFAILED seed %lu\n", static_cast<unsigned long>(r.seed));
  std::printf("options:\n%s\n", synod::sim::DescribeOptions(o).c_str());
  std::printf("checker: %s\n", r.failure.c_str());
  if (!r.trace.empty()) std::printf("last events before the failure:\n%s", r.trace.c_str());
  std::string cmd =
      "synod-sim --seed " + std::to_string(r.seed) + " --nodes " + std::to_string(args.nodes);
  if (args.duration_s > 0) cmd += " --duration-s " + std::to_string(args.duration_s);
  if (!args.bug.empty()) cmd += " --bug " + args.bug;
  std::printf("reproduce: %s --trace\n", cmd.c_str());
  if (!r.history_dump.empty()) {
    const std::string path = "synod-sim-" + std::to_string(r.seed) + ".history";
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      std::fwrite(r.history_dump.data(), 1, r.history_dump.size(), f);
      std::fclose(f);
      std::printf("client history written to %s (check it with: synod-lincheck %s)\n", path.c_str(),
                  path.c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{"synod-sim: deterministic simulation of a synod cluster under faults"};
  app.add_option("--seed", args.seed, "first seed")->required();
  app.add_option("--runs", args.runs, "number of runs, with seeds seed .. seed+runs-1")
      ->check(CLI::PositiveNumber);
  app.add_option("--nodes", args.nodes, "node slots (the first 3 start as voters)")
      ->check(CLI::Range(1, 9));
  app.add_option("--duration-s", args.duration_s,
                 "simulated seconds of the safety phase (default 20)")
      ->check(CLI::NonNegativeNumber);
  std::string bug_help = "switch on one injected Raft bug:";
  for (const char* const* b = synod::sim::BugNames(); *b != nullptr; ++b) {
    bug_help += std::string(" ") + *b;
  }
  app.add_option("--bug", args.bug, bug_help);
  app.add_flag("--trace", args.trace, "print every event as it happens");
  app.add_flag("--check-determinism", args.check_determinism,
               "run each seed twice and compare the final state hashes");
  app.add_flag("--quiet", args.quiet, "one line per run; options only for failing runs");
  app.add_flag("--expect-failure", args.expect_failure,
               "mutation testing: stop at the first run a checker fails, and exit 0 only if "
               "one did (use with --bug)");
  CLI11_PARSE(app, argc, argv);

  synod::sim::OptionOverrides overrides;
  overrides.nodes = args.nodes;
  overrides.duration_s = args.duration_s;
  if (!args.bug.empty() && !synod::sim::EnableBug(args.bug, &overrides.bugs)) {
    std::fprintf(stderr, "unknown bug '%s'\n%s\n", args.bug.c_str(), bug_help.c_str());
    return 2;
  }

  const auto wall_start = std::chrono::steady_clock::now();
  double sim_seconds = 0;
  uint64_t failed = 0, warnings = 0, done = 0;
  for (uint64_t i = 0; i < args.runs; ++i) {
    const uint64_t seed = args.seed + i;
    ++done;
    const synod::sim::SimOptions options = synod::sim::DeriveOptions(seed, overrides);
    if (!args.quiet) std::printf("%s\n", synod::sim::DescribeOptions(options).c_str());
    std::fflush(stdout);
    RunResult r = synod::sim::RunSimulation(options, args.trace ? stdout : nullptr);
    sim_seconds += static_cast<double>(r.sim_time_us) / 1e6;
    if (args.check_determinism) {
      const RunResult again = synod::sim::RunSimulation(options, nullptr);
      sim_seconds += static_cast<double>(again.sim_time_us) / 1e6;
      if (again.state_hash != r.state_hash && r.ok) {
        r.ok = false;
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "determinism: same seed, different final state hash "
                      "(%016lx then %016lx)",
                      static_cast<unsigned long>(r.state_hash),
                      static_cast<unsigned long>(again.state_hash));
        r.failure = buf;
      }
    }
    std::printf("%s\n", synod::sim::SummarizeRun(r).c_str());
    if (!args.quiet) std::printf("  faults: %s\n", r.fault_summary.c_str());
    if (!r.warning.empty()) {
      ++warnings;
      std::printf("  WARNING seed %lu: %s\n", static_cast<unsigned long>(seed), r.warning.c_str());
    }
    if (!r.ok) {
      ++failed;
      PrintFailure(args, options, r);
    }
    std::fflush(stdout);
    if (args.expect_failure && failed > 0) break;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::printf(
      "%lu runs, %lu failed, %lu warnings; %.1f simulated cluster-seconds in %.2f "
      "wall-seconds = %.0f simulated cluster-seconds per wall-second\n",
      static_cast<unsigned long>(done), static_cast<unsigned long>(failed),
      static_cast<unsigned long>(warnings), sim_seconds, wall, wall > 0 ? sim_seconds / wall : 0.0);
  if (args.expect_failure) {
    std::printf("%s\n", failed > 0 ? "expected failure found: the checkers caught it"
                                   : "NO checker failed: the injected bug went unnoticed");
    return failed > 0 ? 0 : 1;
  }
  return failed == 0 ? 0 : 1;
}
