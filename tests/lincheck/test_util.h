// Builders for hand-made histories in the lincheck tests.
#pragma once

#include <optional>
#include <string>

#include "lincheck/history.h"

namespace synod::lincheck::testing {

inline Operation Op(OpKind kind, int64_t call, int64_t ret, uint64_t client = 0) {
  Operation op;
  op.kind = kind;
  op.call = call;
  op.ret = ret;
  op.client = client;
  op.key = "k";
  return op;
}

inline Operation Read(std::optional<std::string> output, int64_t call, int64_t ret) {
  Operation op = Op(OpKind::kRead, call, ret);
  op.output = std::move(output);
  return op;
}

inline Operation Write(std::string value, int64_t call, int64_t ret) {
  Operation op = Op(OpKind::kWrite, call, ret);
  op.value = std::move(value);
  return op;
}

inline Operation Append(std::string value, int64_t call, int64_t ret) {
  Operation op = Op(OpKind::kAppend, call, ret);
  op.value = std::move(value);
  return op;
}

inline Operation Cas(std::optional<std::string> expected, std::string value, Outcome outcome,
                     int64_t call, int64_t ret) {
  Operation op = Op(OpKind::kCas, call, ret);
  op.expected = std::move(expected);
  op.value = std::move(value);
  op.outcome = outcome;
  return op;
}

inline Operation WithOutcome(Operation op, Outcome outcome) {
  op.outcome = outcome;
  return op;
}

inline Operation OnKey(Operation op, std::string key) {
  op.key = std::move(key);
  return op;
}

}  // namespace synod::lincheck::testing
