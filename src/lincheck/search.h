// The search for a linearization of one sub-history (usually one key). Wing & Gong 1993
// ("Testing and verifying concurrent objects", the backtracking algorithm over a list of call
// and return events) with Lowe's memoization of visited configurations (Lowe 2017, "Testing for
// linearizability"). Check() in checker.cc splits a history by key and runs one Search per key.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "lincheck/checker.h"
#include "lincheck/model.h"

namespace synod::lincheck {

struct SearchInput {
  // One entry per operation; operations that IsInert() are left out by the caller.
  std::vector<ModelOp> ops;
  std::vector<uint32_t> register_of;  // which register of the state each op touches
  std::vector<int64_t> call;
  std::vector<int64_t> ret;  // kNeverReturned: may take effect at any time after call, or never
  std::vector<ValueId> initial_state;  // one value per register
};

struct SearchOutcome {
  Verdict verdict = Verdict::kUnknown;  // kUnknown until the search has finished
  uint64_t steps = 0;

  // For kNotLinearizable, the deepest point the search reached: the operations of the longest
  // linearizable prefix (indices into SearchInput, in linearization order), the state after
  // them, and an operation that then had to take effect before returning but could not.
  std::vector<uint32_t> longest_prefix;
  std::vector<ValueId> state_after_prefix;
  std::optional<uint32_t> blocked_op;
};

// A search that runs in slices, so that the caller can interleave the searches of several keys
// (and stop at the first key with no linearization, however long the others would take) and
// enforce its budgets between slices. Not thread-safe.
class Search {
 public:
  // `values` must outlive the search and hold every value id in `input`.
  Search(SearchInput input, ValueTable& values);
  ~Search();
  Search(const Search&) = delete;
  Search& operator=(const Search&) = delete;

  // Runs about `steps_max` more steps (a step is one event visited); returns the verdict, or
  // kUnknown if the search has not finished yet.
  Verdict Run(uint64_t steps_max);

  const SearchOutcome& outcome() const;
  // Memory held by the memo of visited configurations.
  uint64_t memory_bytes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace synod::lincheck
