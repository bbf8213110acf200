// Jepsen etcd logs: one event per line, `... jepsen.util - <process> <type> <f> <value>`, all on
// a single compare-and-set register that starts absent. Fields are split on any whitespace
// (tabs in most logs, runs of spaces in some). README.md has the full mapping.
#include <unordered_map>

#include "lincheck/parse.h"
#include "lincheck/text.h"

namespace synod::lincheck {
namespace {

// The register every Jepsen etcd operation works on.
constexpr std::string_view kJepsenKey = "r";

struct Event {
  uint64_t process = 0;
  std::string_view type;  // :invoke :ok :fail :info
  OpKind kind = OpKind::kRead;
  // The value field: nil, an atom (an int kept as text), a keyword such as :timed-out, or for
  // a cas the pair [old new].
  bool is_nil = false;
  bool is_keyword = false;
  std::optional<std::string> atom;
  std::optional<std::string> pair_old, pair_new;
};

std::optional<std::string> AtomOrNil(std::string_view token) {
  if (token == "nil") return std::nullopt;
  return std::string(token);
}

// Parses the value field (the tokens after <f>); returns an error message or "".
std::string ParseValue(const std::vector<std::string_view>& tokens, size_t from, Event* e) {
  const size_t count = tokens.size() - from;
  if (count == 2 && tokens[from].starts_with("[") && tokens[from + 1].ends_with("]")) {
    std::string_view a = tokens[from].substr(1), b = tokens[from + 1];
    b.remove_suffix(1);
    if (a.empty() || b.empty()) return "malformed [old new] pair";
    e->pair_old = AtomOrNil(a);
    e->pair_new = AtomOrNil(b);
    return "";
  }
  if (count != 1) return "expected one value after the function";
  const std::string_view v = tokens[from];
  if (v.starts_with("[") || v.ends_with("]")) return "malformed [old new] pair";
  e->is_nil = v == "nil";
  e->is_keyword = v.starts_with(":");
  if (!e->is_nil && !e->is_keyword) e->atom = std::string(v);
  return "";
}

// Returns an error message, or "" with `*e` filled, or "skip" for nemesis lines.
std::string ParseEvent(std::string_view line, Event* e) {
  const std::vector<std::string_view> tokens = text::SplitWhitespace(line);
  size_t i = 0;
  while (i < tokens.size() && tokens[i] != "jepsen.util") ++i;
  if (i + 1 >= tokens.size() || tokens[i + 1] != "-") return "expected 'jepsen.util - ' event";
  i += 2;
  if (i < tokens.size() && tokens[i] == ":nemesis") return "skip";
  if (tokens.size() < i + 4) return "expected <process> <type> <f> <value>";
  std::optional<uint64_t> process = text::ParseUint64(tokens[i]);
  if (!process) return "process '" + std::string(tokens[i]) + "' is not a number";
  e->process = *process;
  e->type = tokens[i + 1];
  if (e->type != ":invoke" && e->type != ":ok" && e->type != ":fail" && e->type != ":info") {
    return "unknown type '" + std::string(e->type) + "'";
  }
  const std::string_view f = tokens[i + 2];
  if (f == ":read") {
    e->kind = OpKind::kRead;
  } else if (f == ":write") {
    e->kind = OpKind::kWrite;
  } else if (f == ":cas") {
    e->kind = OpKind::kCas;
  } else {
    return "unknown function '" + std::string(f) + "'";
  }
  return ParseValue(tokens, i + 3, e);
}

// Fills the arguments of a new operation from its :invoke event.
std::string StartOperation(const Event& e, Operation* op) {
  op->kind = e.kind;
  switch (e.kind) {
    case OpKind::kRead:
      break;
    case OpKind::kWrite:
      if (!e.atom) return "a write needs a value";
      op->value = e.atom;
      break;
    case OpKind::kCas:
      if (!e.pair_new && !e.pair_old && !e.atom) return "a cas needs an [old new] pair";
      if (!e.pair_new) return "a cas needs a new value";
      op->expected = e.pair_old;
      op->value = e.pair_new;
      break;
    case OpKind::kAppend:
      return "jepsen etcd logs have no append";
  }
  return "";
}

// Applies a completion event (:ok, :fail or :info) to its pending operation.
std::string CompleteOperation(const Event& e, int64_t time, Operation* op) {
  if (e.kind != op->kind) return "completes a different function than was invoked";
  if (e.type == ":info") return "";  // indeterminate: stays open to the end (kUnknown)
  op->ret = time;
  if (e.type == ":fail") {
    // A failed cas compared unequal; a failed read (:timed-out) has no result to check; a
    // failed write did not happen.
    op->outcome = Outcome::kFail;
    return "";
  }
  op->outcome = Outcome::kOk;
  if (e.kind == OpKind::kRead) {
    if (e.is_keyword || e.pair_new) return "a successful read returns nil or a value";
    op->output = e.atom;
  } else if (e.kind == OpKind::kWrite && e.atom != op->value) {
    return "the completed write reports a different value than was invoked";
  }
  return "";
}

}  // namespace

Result<History> ParseJepsen(std::string_view contents, std::string_view source) {
  History history;
  history.initial = std::nullopt;
  std::unordered_map<uint64_t, size_t> pending;  // process -> index of its open operation
  for (const text::Line& line : text::SplitLines(contents)) {
    if (text::Trim(line.text).empty()) continue;
    Event e;
    std::string problem = ParseEvent(line.text, &e);
    if (problem == "skip") continue;
    if (problem.empty() && e.type == ":invoke") {
      if (pending.contains(e.process)) {
        problem = "process " + std::to_string(e.process) + " invokes with an operation open";
      } else {
        Operation op;
        op.client = e.process;
        op.key = std::string(kJepsenKey);
        op.outcome = Outcome::kUnknown;
        op.call = static_cast<int64_t>(line.number);
        problem = StartOperation(e, &op);
        pending[e.process] = history.ops.size();
        history.ops.push_back(std::move(op));
      }
    } else if (problem.empty()) {
      auto it = pending.find(e.process);
      if (it == pending.end()) {
        problem = "process " + std::to_string(e.process) + " completes with nothing open";
      } else {
        problem = CompleteOperation(e, static_cast<int64_t>(line.number), &history.ops[it->second]);
        pending.erase(it);
      }
    }
    if (!problem.empty()) return text::LineError(source, line.number, problem);
  }
  // Still open at the end of the log: outcome unknown, which is how they were created.
  Status valid = ValidateHistory(history);
  if (!valid.ok())
    return Status(ErrorCode::kInvalidArgument, std::string(source) + ": " + valid.message());
  return history;
}

}  // namespace synod::lincheck
