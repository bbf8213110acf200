// Records what the simulated clients saw, in the linearizability checker's vocabulary.
//
// Operations that provably never took effect are left out of the history instead of being
// recorded as unknown: reads that got no answer (a read changes nothing) and writes whose
// proposal never entered any log (Propose was refused). Leaving them out is sound (an
// operation with no effect constrains nothing) and keeps the checker's search small; every
// other unanswered write stays in as kUnknown, open to the end of the history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lincheck/history.h"
#include "sim/time.h"

namespace synod::sim {

class HistoryRecorder {
 public:
  using OpId = size_t;

  // Starts an operation; `op.call` is its invocation time. The op's outcome is set later.
  OpId Invoke(lincheck::Operation op);
  void Ok(OpId id, Micros ret_us, std::optional<std::string> output);
  void CasFailed(OpId id, Micros ret_us);
  void Unknown(OpId id);
  void Drop(OpId id);

  // Every operation not dropped; those still pending are kUnknown.
  lincheck::History Build() const;

  uint64_t invoked() const { return ops_.size(); }
  uint64_t ok() const { return ok_; }
  uint64_t unknown() const { return unknown_; }
  uint64_t dropped() const { return dropped_; }

 private:
  enum class State : uint8_t { kPending, kDone, kDropped };
  void Finish(OpId id);

  std::vector<lincheck::Operation> ops_;
  std::vector<State> states_;
  uint64_t ok_ = 0, unknown_ = 0, dropped_ = 0;
};

}  // namespace synod::sim
