// The sequential specification the checker tests against: a string register (absent, or a
// string) with read, write, compare-and-set and append, and what each outcome (ok, fail,
// unknown) allows. Values are interned to small integers so that the search compares, hashes
// and stores integers only.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lincheck/history.h"

namespace synod::lincheck {

using ValueId = uint32_t;
inline constexpr ValueId kAbsent = 0;

// Interns register values: equal strings get equal ids, kAbsent stands for "no value".
// Not thread-safe; one table per check.
class ValueTable {
 public:
  ValueId Intern(const std::optional<std::string>& value);
  ValueId Intern(std::string&& value);
  // The id of `base + suffix` (absent base counts as ""). Memoized, because the search
  // applies the same append to the same state many times while backtracking.
  ValueId Append(ValueId base, ValueId suffix);
  // `nil` or the quoted string.
  std::string Describe(ValueId id) const;
  size_t size() const { return strings_.size() + 1; }
  // Approximate heap bytes held, for the checker's memory budget.
  uint64_t memory_bytes() const { return bytes_; }

 private:
  // The string of id i is strings_[i - 1]. A deque never moves its elements, so ids_ can key on
  // views into them and every value is stored once.
  std::deque<std::string> strings_;
  std::unordered_map<std::string_view, ValueId> ids_;
  std::unordered_map<uint64_t, ValueId> appended_;  // (base << 32 | suffix) -> result
  uint64_t bytes_ = 0;
};

// An operation as the model sees it: every value replaced by its id.
struct ModelOp {
  OpKind kind = OpKind::kRead;
  Outcome outcome = Outcome::kOk;
  ValueId value = kAbsent;     // write, cas, append
  ValueId expected = kAbsent;  // cas
  ValueId output = kAbsent;    // ok read
};

ModelOp ToModelOp(const Operation& op, ValueTable& values);

struct StepResult {
  bool legal = false;      // may the operation take effect in this state with its outcome?
  ValueId next = kAbsent;  // the state after it, when legal
};

// The register's transition function:
//   read ok:      legal iff state == output; unknown or failed reads observe nothing, so any
//                 state is legal (a Jepsen read that timed out has no result to check)
//   write:        state = value (a failed write did not happen: state unchanged)
//   cas ok:       legal iff state == expected, then state = value
//   cas fail:     legal iff state != expected (the comparison failed), state unchanged
//   cas unknown:  always legal; swaps iff state == expected
//   append:       state = state + value, absent counting as "" (failed: unchanged)
StepResult Step(const ModelOp& op, ValueId state, ValueTable& values);

// True for operations that can neither change the register nor constrain it: the checker may
// leave them out of the search altogether (failed writes and appends, reads without a result).
bool IsInert(const Operation& op);

}  // namespace synod::lincheck
