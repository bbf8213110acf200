// Runs one benchmark over gRPC: picks the target members (Maintenance.Status finds the leader),
// opens --conns channels, and keeps --clients requests outstanding with gRPC's callback API,
// so a few gRPC threads drive thousands of clients. Each client sends its next request from
// the completion of the previous one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "histogram.h"
#include "options.h"

namespace grpc {
class Channel;
}

namespace synod::bench {

// The steps of one lease request, timed apart as well as together.
enum class LeaseStep { kGrant, kKeepAlive, kRevoke };
constexpr int kLeaseStepCount = 3;
const char* LeaseStepName(LeaseStep step);

// What only the watch workload measures (RunResult::ok counts the events delivered).
struct WatchStats {
  uint32_t watchers = 0;          // asked for
  uint32_t watchers_created = 0;  // confirmed by the server
  uint32_t streams = 0;
  uint64_t puts_ok = 0;
  uint64_t puts_failed = 0;  // no answer or an error: such a put may still apply
  LatencyHistogram put_latency_ns;
  double put_send_s = 0;     // first put sent .. last put sent
  double put_elapsed_s = 0;  // first put sent .. last put answered
  // Per watcher, over the puts that succeeded: each must arrive once, in revision order.
  uint64_t events_expected = 0;  // puts_ok x watchers_created
  uint64_t missed = 0;
  uint64_t duplicated = 0;
  uint64_t out_of_order = 0;    // revision not above the watcher's previous event
  uint64_t unacked_events = 0;  // events of puts whose answer failed (not an error)
  uint32_t watchers_missing_events = 0;
  uint64_t canceled = 0;      // watches the server canceled
  uint64_t stray_events = 0;  // not a put of this run (another writer on the prefix)
  bool drained = false;       // every expected event arrived before the --timeout wait ran out
  uint64_t problems() const { return missed + duplicated + out_of_order + canceled; }
};

struct RunResult {
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::map<int, uint64_t> errors_by_code;     // gRPC status code -> count
  std::map<int, std::string> error_examples;  // gRPC status code -> first message
  LatencyHistogram latency_ns;                // successful requests only
  double elapsed_s = 0;
  std::vector<std::string> targets;                 // endpoints that got connections
  std::string leader;                               // as Maintenance.Status named it, if asked
  std::optional<WatchStats> watch;                  // the watch workload only
  LatencyHistogram lease_step_ns[kLeaseStepCount];  // the lease workload only
};

// Progress so far, for the once-a-second line.
struct Progress {
  double elapsed_s = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::optional<uint64_t> puts;  // watch: the writer's puts answered so far
};

// A channel of its own TCP connection to `address` (host:port).
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address);
// `count` channels spread over `targets` in turn, each connected (5 s each at most).
Result<std::vector<std::shared_ptr<grpc::Channel>>> ConnectChannels(
    uint32_t count, const std::vector<std::string>& targets);

// The addresses (host:port) the connections go to, per --target; asks every endpoint's
// Maintenance.Status when the leader matters. `leader` gets the leader's address if known.
Result<std::vector<std::string>> ChooseTargets(const BenchOptions& options, std::string* leader);

// Runs the workload against `targets`; `progress` is called about once a second.
Result<RunResult> RunBenchmark(const BenchOptions& options, const std::vector<std::string>& targets,
                               const std::function<void(const Progress&)>& progress);

}  // namespace synod::bench
