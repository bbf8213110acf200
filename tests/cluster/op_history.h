// Records what the fault tests' clients did, for the linearizability checker (src/lincheck):
// every operation with its call time (taken before the request is sent) and its return time
// (taken after the answer arrived), and an outcome that claims no more than the client knows:
// `ok` only for an answered request, `fail` only when the request certainly did not take effect
// (a CAS whose comparison failed, a read that got no value), `unknown` for everything else
// (timeouts, lost connections, errors after the request may have been proposed): such an
// operation may take effect at any later time, or never. A request that never left the client
// (no connection) or that the member refused before proposing it is no operation: dropped.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "lincheck/checker.h"
#include "lincheck/history.h"

namespace synod::cluster_test {

class OpHistory {
 public:
  using OpId = size_t;

  OpHistory() : start_(std::chrono::steady_clock::now()) {}

  // Starts an operation now; `value` is the written value (write, cas), `expected` the compared
  // one (cas; nullopt means absent). Thread-safe.
  OpId Invoke(uint64_t client, const std::string& key, lincheck::OpKind kind,
              std::optional<std::string> value = std::nullopt,
              std::optional<std::string> expected = std::nullopt);
  // Ends it now: answered (a read's value in `output`, nullopt for an absent key).
  void Ok(OpId id, std::optional<std::string> output = std::nullopt);
  // Ends it now: it certainly did not take effect.
  void Fail(OpId id);
  // Ends it: it may take effect later, or never.
  void Unknown(OpId id);
  // Ends it from a gRPC error: a read without a value constrains nothing (`Fail`); a request
  // that never reached a server is no operation at all (`Drop`); anything else is `Unknown`.
  void Error(OpId id, const grpc::Status& status);
  // Removes it from the history: it was never sent. (Not `Fail`: for a CAS, the checker reads
  // fail as "the comparison failed", which constrains the register.)
  void Drop(OpId id);

  // Every operation so far but the dropped ones; one not ended yet counts as unknown.
  lincheck::History Snapshot() const;
  struct Counts {
    size_t ok = 0, fail = 0, unknown = 0, dropped = 0;
  };
  Counts counts() const;
  // How often each gRPC error ended an operation ("CODE: message"), for the test log.
  std::map<std::string, size_t> errors() const;
  // The history's clock (ns since it was made): to place fault events among the operations.
  int64_t Now() const;

 private:
  const std::chrono::steady_clock::time_point start_;
  mutable std::mutex mu_;  // guards the fields below
  std::vector<lincheck::Operation> ops_;
  std::vector<bool> ended_;
  std::vector<bool> dropped_;
  std::map<std::string, size_t> errors_;
};

// True when the gRPC error proves the request never took a place in the log: the channel
// could not connect, or the member refused it for want of a leader.
bool NeverSent(const grpc::Status& status);

// Checks `history` with src/lincheck (budget `seconds`); writes it in synod's history format to
// `path` (when not empty) so `synod-lincheck` can be run on it again. Ok when linearizable;
// otherwise an error holding the checker's verdict and explanation.
Status CheckLinearizable(const lincheck::History& history, const std::string& path,
                         double seconds = 30);

}  // namespace synod::cluster_test
