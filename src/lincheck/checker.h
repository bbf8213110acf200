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
};

struct CheckResult {
  Verdict verdict = Verdict::kUnknown;
  // For kNotLinearizable: the key whose sub-history has no linearization and a short,
  // readable account of the operations involved.
  std::string key;
  std::string explanation;
  uint64_t steps = 0;
};

CheckResult Check(const History& history, const CheckOptions& options);

}  // namespace synod::lincheck
