// Linearizability checking of key-value histories (Wing & Gong's search with Lowe's
// memoization, split per key). See README.md in this folder.
#pragma once

#include <cstdint>
#include <string>

#include "lincheck/history.h"

namespace synod::lincheck {

enum class Verdict : uint8_t { kLinearizable, kNotLinearizable, kUnknown /* budget ran out */ };
const char* VerdictName(Verdict v);

struct CheckOptions {
  // Wall-clock budget for the whole history; 0 = none.
  double time_budget_seconds = 10.0;
  // Search steps for the whole history; 0 = none. Deterministic, unlike the time budget, so
  // the simulator uses this one.
  uint64_t step_budget = 0;
  // Bound on the memos of visited configurations, all keys together; 0 = none. When it is
  // exceeded the verdict is kUnknown rather than the process running out of memory.
  uint64_t memory_budget_bytes = uint64_t{2} << 30;
  // Check each key's sub-history alone (linearizability is local, Herlihy & Wing 1990 §3.3),
  // which is exponentially cheaper than one search over all keys. Off only to cross-check.
  bool partition_by_key = true;
};

struct CheckResult {
  Verdict verdict = Verdict::kUnknown;
  // For kNotLinearizable: the key whose sub-history has no linearization and a short,
  // readable account of the operations involved. For kUnknown: which budget ran out, where.
  std::string key;
  std::string explanation;
  uint64_t steps = 0;
  // Sub-histories searched (keys, or 1 without partitioning); they take turns, in key order.
  uint64_t searches = 0;
};

// REQUIRES: ValidateHistory(history) is ok (asserted).
// The time budget makes the verdict depend on the machine; the step budget does not.
CheckResult Check(const History& history, const CheckOptions& options);

}  // namespace synod::lincheck
