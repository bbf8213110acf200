// synod-lincheck: checks one client history file for linearizability and prints the verdict as
// its last line. Exit status: 0 linearizable, 1 not linearizable, 2 unknown (a budget ran out),
// 3 bad input or usage.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>

#include "lincheck/checker.h"
#include "lincheck/parse.h"

namespace {

using synod::lincheck::CheckOptions;
using synod::lincheck::CheckResult;
using synod::lincheck::Format;
using synod::lincheck::History;
using synod::lincheck::Verdict;

constexpr int kExitLinearizable = 0;
constexpr int kExitNotLinearizable = 1;
constexpr int kExitUnknown = 2;
constexpr int kExitBadInput = 3;

struct Args {
  std::string path;
  std::string format = "auto";
  double timeout_seconds = 10.0;
  uint64_t step_budget = 0;
  bool no_partition = false;
};

int BadInput(const std::string& message) {
  std::fprintf(stderr, "synod-lincheck: %s\n", message.c_str());
  return kExitBadInput;
}

void PrintSummary(const History& history, const CheckResult& result, double elapsed) {
  std::set<std::string> keys;
  size_t unknown = 0;
  for (const auto& op : history.ops) {
    keys.insert(op.key);
    unknown += op.outcome == synod::lincheck::Outcome::kUnknown ? 1 : 0;
  }
  std::printf("operations: %zu on %zu key(s), %zu with unknown outcome\n", history.ops.size(),
              keys.size(), unknown);
  std::printf("searched: %llu sub-history(ies), %llu steps, %.3f s\n",
              static_cast<unsigned long long>(result.searches),
              static_cast<unsigned long long>(result.steps), elapsed);
  if (result.verdict == Verdict::kLinearizable) return;
  if (!result.key.empty()) std::printf("key: %s\n", result.key.c_str());
  if (!result.explanation.empty()) {
    std::string text = result.explanation;
    if (text.back() == '\n') text.pop_back();
    std::printf("%s\n", text.c_str());
  }
}

int Run(const Args& args) {
  auto format = synod::lincheck::ParseFormatName(args.format);
  if (!format.ok()) return BadInput(format.status().message());
  auto contents = synod::lincheck::ReadFile(args.path);
  if (!contents.ok()) return BadInput(contents.status().message());
  Format resolved = format.value();
  if (resolved == Format::kAuto) {
    auto detected = synod::lincheck::DetectFormat(contents.value(), args.path);
    if (!detected.ok()) return BadInput(detected.status().message());
    resolved = detected.value();
  }
  auto history = synod::lincheck::ParseHistory(contents.value(), resolved, args.path);
  if (!history.ok()) return BadInput(history.status().message());

  CheckOptions options;
  options.time_budget_seconds = args.timeout_seconds;
  options.step_budget = args.step_budget;
  options.partition_by_key = !args.no_partition;
  std::printf("file: %s (%s)\n", args.path.c_str(), synod::lincheck::FormatName(resolved));
  const auto start = std::chrono::steady_clock::now();
  const CheckResult result = synod::lincheck::Check(history.value(), options);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  PrintSummary(history.value(), result, elapsed.count());
  std::printf("%s\n", synod::lincheck::VerdictName(result.verdict));
  switch (result.verdict) {
    case Verdict::kLinearizable:
      return kExitLinearizable;
    case Verdict::kNotLinearizable:
      return kExitNotLinearizable;
    case Verdict::kUnknown:
      return kExitUnknown;
  }
  return kExitUnknown;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Checks a client history of a key-value store for linearizability (Wing & Gong's search "
      "with Lowe's memoization, one key at a time).\nThe last line printed is LINEARIZABLE, NOT "
      "LINEARIZABLE or UNKNOWN (a budget ran out).\nExit status: 0 linearizable, 1 not "
      "linearizable, 2 unknown, 3 bad input.",
      "synod-lincheck"};
  Args args;
  app.add_option("FILE", args.path, "History file")->required();
  app.add_option("--format", args.format,
                 "auto (default: guessed from the first line), jepsen (Jepsen etcd log), "
                 "porcupine-kv (Porcupine key-value EDN) or synod (synod history v1)")
      ->check(CLI::IsMember({"auto", "jepsen", "porcupine-kv", "synod"}));
  app.add_option("--timeout", args.timeout_seconds, "Wall-clock budget in seconds; 0: none")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--step-budget", args.step_budget,
                 "Search steps allowed (deterministic, unlike --timeout); 0: none")
      ->capture_default_str();
  app.add_flag("--no-partition", args.no_partition,
               "Search all keys together instead of one key at a time (slower; for "
               "cross-checking)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitBadInput;
  }
  return Run(args);
}
