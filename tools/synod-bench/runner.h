// The state every client of a closed-loop run shares (put, range, txn-put, delete, lease):
// tickets (--total, --duration), the latency histograms, errors by gRPC code, and the wait for
// the clients to finish. Thread-safe: gRPC's callback threads call it concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "driver.h"
#include "histogram.h"
#include "options.h"

namespace synod::bench {

using Clock = std::chrono::steady_clock;

// Something that sends its next request when asked (a client).
class Issuer {
 public:
  virtual ~Issuer() = default;
  virtual void Issue() = 0;
};

class Runner {
 public:
  static constexpr int kShards = 16;  // latency histograms, each behind its own mutex

  Runner(const BenchOptions& options, size_t clients)
      : options_(options), active_(static_cast<int>(clients)) {}

  // Claims the right to send one more request; false when the run is over.
  bool ClaimTicket();
  void RecordOk(int shard, uint64_t ns);
  // One step of a multi-step request (lease: grant, keep-alive, revoke), kept apart.
  void RecordStep(int shard, LeaseStep step, uint64_t ns);
  void RecordError(int code, const std::string& message);
  void ClientFinished();
  // `issuer` is restarted from the waiting thread (gRPC ran its callback inline too deep).
  void Defer(Issuer* issuer);

  // Waits until every client has finished, restarting deferred clients, reporting progress,
  // and calling `tick` (when set) about every 100 ms.
  void Wait(Clock::time_point start, const std::function<void(const Progress&)>& progress,
            const std::function<void()>& tick = nullptr);
  void Collect(RunResult* out);

  const BenchOptions& options() const { return options_; }
  void set_deadline(Clock::time_point d) { deadline_ = d; }

 private:
  struct Shard {
    std::mutex mu;
    LatencyHistogram latency_ns;
    LatencyHistogram step_ns[kLeaseStepCount];
  };
  const BenchOptions& options_;
  Clock::time_point deadline_;
  std::atomic<uint64_t> issued_{0};
  std::atomic<uint64_t> ok_{0};
  std::atomic<uint64_t> errors_{0};
  Shard shards_[kShards];
  std::mutex mu_;  // guards the members below
  std::condition_variable cv_;
  int active_;
  std::vector<Issuer*> deferred_;
  std::map<int, uint64_t> errors_by_code_;
  std::map<int, std::string> error_examples_;
};

// A callback that gRPC runs inline (inside the call that starts the next request) would recurse
// once per request; past this depth the next request is started from the waiting thread.
// Returns false (and defers `issuer`) when too deep; the caller then returns at once.
bool EnterIssue(Runner* runner, Issuer* issuer);
void LeaveIssue();

}  // namespace synod::bench
