#include "lincheck/model.h"

#include "base/assert.h"
#include "lincheck/text.h"

namespace synod::lincheck {

ValueId ValueTable::Intern(const std::optional<std::string>& value) {
  if (!value) return kAbsent;
  auto found = ids_.find(*value);
  if (found != ids_.end()) return found->second;
  return Intern(std::string(*value));
}

ValueId ValueTable::Intern(std::string&& value) {
  auto found = ids_.find(value);
  if (found != ids_.end()) return found->second;
  SYNOD_ASSERT(strings_.size() < UINT32_MAX - 1, "value table full");
  // The string's buffer plus a rough per-entry cost of the deque slot and the hash node.
  bytes_ += value.capacity() + 96;
  strings_.push_back(std::move(value));
  const auto id = static_cast<ValueId>(strings_.size());
  ids_.emplace(strings_.back(), id);
  return id;
}

ValueId ValueTable::Append(ValueId base, ValueId suffix) {
  SYNOD_ASSERT(base <= strings_.size() && suffix <= strings_.size(), "unknown value id");
  uint64_t memo_key = (uint64_t{base} << 32) | suffix;
  auto found = appended_.find(memo_key);
  if (found != appended_.end()) return found->second;
  const std::string_view head = base == kAbsent ? std::string_view() : strings_[base - 1];
  const std::string_view tail = suffix == kAbsent ? std::string_view() : strings_[suffix - 1];
  std::string joined;
  joined.reserve(head.size() + tail.size());
  joined.append(head).append(tail);
  const ValueId id = Intern(std::move(joined));
  appended_.emplace(memo_key, id);
  bytes_ += 32;
  return id;
}

std::string ValueTable::Describe(ValueId id) const {
  SYNOD_ASSERT(id <= strings_.size(), "unknown value id");
  return id == kAbsent ? std::string("nil") : text::Quote(strings_[id - 1]);
}

ModelOp ToModelOp(const Operation& op, ValueTable& values) {
  ModelOp m;
  m.kind = op.kind;
  m.outcome = op.outcome;
  m.value = values.Intern(op.value);
  m.expected = values.Intern(op.expected);
  m.output = values.Intern(op.output);
  return m;
}

StepResult Step(const ModelOp& op, ValueId state, ValueTable& values) {
  const bool failed = op.outcome == Outcome::kFail;
  switch (op.kind) {
    case OpKind::kRead:
      if (op.outcome != Outcome::kOk) return {true, state};
      return {state == op.output, state};
    case OpKind::kWrite:
      return {true, failed ? state : op.value};
    case OpKind::kCas:
      if (failed) return {state != op.expected, state};
      if (state == op.expected) return {true, op.value};
      return {op.outcome == Outcome::kUnknown, state};
    case OpKind::kAppend:
      return {true, failed ? state : values.Append(state, op.value)};
  }
  SYNOD_UNREACHABLE("bad operation kind");
}

bool IsInert(const Operation& op) {
  switch (op.kind) {
    case OpKind::kRead:
      return op.outcome != Outcome::kOk;
    case OpKind::kWrite:
    case OpKind::kAppend:
      return op.outcome == Outcome::kFail;
    case OpKind::kCas:
      return false;
  }
  SYNOD_UNREACHABLE("bad operation kind");
}

}  // namespace synod::lincheck
