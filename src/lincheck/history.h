// A client history of a key-value store, as the linearizability checker reads it.
// Every key is an independent register (string value, or absent), so a history can be split
// by key and each part checked alone (linearizability is compositional, Herlihy & Wing §3.3).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace synod::lincheck {

enum class OpKind : uint8_t {
  kRead,    // output = value read (nullopt: absent)
  kWrite,   // value = written value
  kCas,     // if register == expected then register = value
  kAppend,  // register = register + value (absent counts as "")
};

enum class Outcome : uint8_t {
  kOk,       // took effect between call and ret with the given output
  kFail,     // definitely did not take effect (a cas whose comparison failed)
  kUnknown,  // may have taken effect at any point after call, or never (timeouts)
};

inline constexpr int64_t kNeverReturned = std::numeric_limits<int64_t>::max();

struct Operation {
  uint64_t client = 0;
  std::string key;
  OpKind kind = OpKind::kRead;
  std::optional<std::string> value;     // kWrite, kAppend, kCas: the new value
  std::optional<std::string> expected;  // kCas: the compared value (nullopt: absent)
  std::optional<std::string> output;    // kRead with kOk: what was read (nullopt: absent)
  Outcome outcome = Outcome::kOk;
  int64_t call = 0;              // invocation time (any monotonic unit)
  int64_t ret = kNeverReturned;  // completion time; kNeverReturned for kUnknown
  // The checker ignores `ret` of a kUnknown operation: a request that timed out at the client
  // may still be applied later, so its effect window stays open to the end of the history.
};

struct History {
  std::vector<Operation> ops;
  // Value of every register before the history starts (nullopt: absent). Porcupine's kv model
  // starts at "" and the Jepsen etcd register at nil.
  std::optional<std::string> initial;
};

const char* OpKindName(OpKind kind);
const char* OutcomeName(Outcome outcome);

// Checks the shape of an operation (times in order, the fields its kind needs); kInvalidArgument
// says what is wrong.
Status ValidateOperation(const Operation& op);
// ValidateOperation on every operation; the message names the first bad one. Parsers call it;
// Check() asserts it.
Status ValidateHistory(const History& history);

// One line for explanations, e.g. `client 3 cas "1"->"2" fail [call 10, ret 14]`.
std::string DescribeOperation(const Operation& op);

// `nil` for absent, else the value in double quotes with escapes (see README.md).
std::string DescribeValue(const std::optional<std::string>& value);

}  // namespace synod::lincheck
