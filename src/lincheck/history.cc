#include "lincheck/history.h"

#include "lincheck/text.h"

namespace synod::lincheck {

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kRead:
      return "read";
    case OpKind::kWrite:
      return "write";
    case OpKind::kCas:
      return "cas";
    case OpKind::kAppend:
      return "append";
  }
  return "?";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFail:
      return "fail";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

namespace {

// Returns an empty string when `op` is well formed, else what is wrong with it.
std::string OperationProblem(const Operation& op) {
  if (op.call == kNeverReturned) return "call time is the never-returned marker";
  if (op.outcome != Outcome::kUnknown && op.ret == kNeverReturned) {
    return "only an operation with an unknown outcome may lack a return time";
  }
  if (op.ret != kNeverReturned && op.ret < op.call) return "returns before it is called";
  switch (op.kind) {
    case OpKind::kRead:
      if (op.value || op.expected) return "a read carries no value or expected value";
      break;
    case OpKind::kWrite:
      if (op.expected) return "a write carries no expected value";
      break;
    case OpKind::kCas:
      break;
    case OpKind::kAppend:
      if (!op.value) return "an append needs a value";
      if (op.expected) return "an append carries no expected value";
      break;
  }
  if (op.output && !(op.kind == OpKind::kRead && op.outcome == Outcome::kOk)) {
    return "only a successful read has an output";
  }
  return "";
}

}  // namespace

Status ValidateOperation(const Operation& op) {
  std::string problem = OperationProblem(op);
  if (problem.empty()) return Status::Ok();
  return Status(ErrorCode::kInvalidArgument, problem);
}

Status ValidateHistory(const History& history) {
  for (size_t i = 0; i < history.ops.size(); ++i) {
    Status valid = ValidateOperation(history.ops[i]);
    if (!valid.ok()) {
      return Status(ErrorCode::kInvalidArgument, "operation " + std::to_string(i) + " (" +
                                                     DescribeOperation(history.ops[i]) +
                                                     "): " + valid.message());
    }
  }
  return Status::Ok();
}

std::string DescribeValue(const std::optional<std::string>& value) {
  return value ? text::Quote(*value) : std::string("nil");
}

std::string DescribeOperation(const Operation& op) {
  std::string s = "client " + std::to_string(op.client) + " " + OpKindName(op.kind);
  switch (op.kind) {
    case OpKind::kRead:
      if (op.outcome == Outcome::kOk) s += " -> " + DescribeValue(op.output);
      break;
    case OpKind::kWrite:
    case OpKind::kAppend:
      s += " " + DescribeValue(op.value);
      break;
    case OpKind::kCas:
      s += " " + DescribeValue(op.expected) + "->" + DescribeValue(op.value);
      break;
  }
  s += std::string(" ") + OutcomeName(op.outcome) + " [call " + std::to_string(op.call) + ", ret ";
  s += op.ret == kNeverReturned ? std::string("never") : std::to_string(op.ret);
  s += "]";
  return s;
}

}  // namespace synod::lincheck
