// synod-bench's command line: the workload and its options, checked in full before anything
// connects, so a typo fails at once with a message naming the option.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "keys.h"

namespace synod::bench {

enum class Workload { kPut, kRange, kTxnPut, kDelete, kWatch, kLease };
enum class Target { kAll, kLeader, kFollowers };

struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string address() const { return host + ":" + std::to_string(port); }
};

struct BenchOptions {
  Workload workload = Workload::kPut;
  std::vector<Endpoint> endpoints;
  uint32_t conns = 1;
  uint32_t clients = 1;
  uint64_t total = 0;     // 0: no request limit (then duration_s > 0)
  double duration_s = 0;  // 0: no time limit (then total > 0)
  uint32_t key_size = 8;
  uint32_t val_size = 256;
  uint64_t key_space = 10000;
  KeyDist key_dist = KeyDist::kUniform;
  double zipf_exponent = 0.99;
  bool serializable = false;  // range only: --consistency s
  Target target = Target::kAll;
  double timeout_s = 10;  // deadline of each request
  std::string json_path;
  uint64_t seed = 1;
  bool quiet = false;  // no progress line
  // watch: `watchers` watches on `watch_prefix`, one Watch stream per connection carrying
  // several watch ids; one writer puts under the prefix at `rate` puts/s; total and
  // duration_s bound the puts.
  uint32_t watchers = 1000;
  double rate = 1000;
  std::string watch_prefix = "synod-bench/watch/";
  // lease: each cycle grants a lease of this TTL, keeps it alive once and revokes it.
  int64_t lease_ttl_s = 60;
};

// What parsing decided: run with `options`, or exit with `exit_code` after printing `message`
// (to stdout for --help, exit 0; to stderr for an error, exit 2).
struct ParseOutcome {
  bool run = false;
  int exit_code = 0;
  std::string message;
  BenchOptions options;
};

// `args` without the program name.
ParseOutcome ParseOptions(const std::vector<std::string>& args);

const char* WorkloadName(Workload w);
const char* TargetName(Target t);
const char* KeyDistName(KeyDist d);

}  // namespace synod::bench
