// synod's own history format (README.md, "The synod history format"): a header line, comments,
// an optional `initial` line, then one operation per line in eight tab-separated fields:
//   call  ret|-  client  key  op  args  outcome  output
// Values are `nil` (absent) or a double-quoted string, so an absent value and an empty string
// ("") never look alike, and a quoted string never holds a raw tab or line break.
#include "lincheck/parse.h"
#include "lincheck/text.h"

namespace synod::lincheck {
namespace {

constexpr size_t kFieldCount = 8;
constexpr std::string_view kNone = "-";  // a field with nothing in it (args, output, ret)

// Reads `nil` or a quoted string from the front of `*s`.
std::optional<std::optional<std::string>> ReadValue(std::string_view* s, std::string* error) {
  if (s->starts_with("nil")) {
    s->remove_prefix(3);
    return std::optional<std::string>();
  }
  if (!s->starts_with("\"")) {
    *error = "expected nil or a double-quoted string";
    return std::nullopt;
  }
  std::optional<std::string> str = text::ReadQuoted(s, /*allow_hex_escape=*/true, error);
  if (!str) return std::nullopt;
  return std::optional<std::string>(std::move(*str));
}

// A field that is exactly one value.
std::string ParseSingleValue(std::string_view field, const char* what,
                             std::optional<std::string>* out) {
  std::string error;
  auto v = ReadValue(&field, &error);
  if (!v) return std::string(what) + ": " + error;
  if (!field.empty()) return std::string(what) + ": unexpected text after the value";
  *out = std::move(*v);
  return "";
}

std::string ParseArgs(std::string_view field, Operation* op) {
  switch (op->kind) {
    case OpKind::kRead:
      if (field != kNone) return "a read takes no arguments ('-')";
      return "";
    case OpKind::kWrite:
    case OpKind::kAppend:
      return ParseSingleValue(field, "argument", &op->value);
    case OpKind::kCas: {
      // `<expected> <new>`, separated by one space.
      std::string error;
      auto expected = ReadValue(&field, &error);
      if (!expected) return "cas expected value: " + error;
      if (!field.starts_with(" ")) return "a cas takes '<expected> <new>'";
      field.remove_prefix(1);
      op->expected = std::move(*expected);
      return ParseSingleValue(field, "cas new value", &op->value);
    }
  }
  return "bad operation kind";
}

std::string ParseOperation(std::string_view line, Operation* op) {
  const std::vector<std::string_view> f = text::SplitChar(line, '\t');
  if (f.size() != kFieldCount) {
    return "expected 8 tab-separated fields (call ret client key op args outcome output), got " +
           std::to_string(f.size());
  }
  std::optional<int64_t> call = text::ParseInt64(f[0]);
  if (!call || *call == kNeverReturned) return "bad call time '" + std::string(f[0]) + "'";
  op->call = *call;
  if (f[1] != kNone) {
    std::optional<int64_t> ret = text::ParseInt64(f[1]);
    if (!ret || *ret == kNeverReturned) return "bad return time '" + std::string(f[1]) + "'";
    op->ret = *ret;
  }
  std::optional<uint64_t> client = text::ParseUint64(f[2]);
  if (!client) return "bad client '" + std::string(f[2]) + "'";
  op->client = *client;
  std::optional<std::string> key;
  if (std::string problem = ParseSingleValue(f[3], "key", &key); !problem.empty()) return problem;
  if (!key) return "a key is a quoted string, not nil";
  op->key = std::move(*key);
  if (f[4] == "read") {
    op->kind = OpKind::kRead;
  } else if (f[4] == "write") {
    op->kind = OpKind::kWrite;
  } else if (f[4] == "cas") {
    op->kind = OpKind::kCas;
  } else if (f[4] == "append") {
    op->kind = OpKind::kAppend;
  } else {
    return "unknown op '" + std::string(f[4]) + "' (read, write, cas, append)";
  }
  if (std::string problem = ParseArgs(f[5], op); !problem.empty()) return problem;
  if (f[6] == "ok") {
    op->outcome = Outcome::kOk;
  } else if (f[6] == "fail") {
    op->outcome = Outcome::kFail;
  } else if (f[6] == "unknown") {
    op->outcome = Outcome::kUnknown;
  } else {
    return "unknown outcome '" + std::string(f[6]) + "' (ok, fail, unknown)";
  }
  if (op->kind == OpKind::kRead && op->outcome == Outcome::kOk) {
    return ParseSingleValue(f[7], "output", &op->output);
  }
  if (f[7] != kNone) return "only a successful read has an output; write '-'";
  return "";
}

// Handles the header, comments and the `initial` line, setting *consumed when `line` was one of
// them. Returns an error message or "".
std::string ParseHeaderOrInitial(const text::Line& line, bool* seen_header, bool seen_op,
                                 bool* seen_initial, History* history, bool* consumed) {
  *consumed = true;
  if (!*seen_header) {
    if (text::Trim(line.text) == kSynodHeader) {
      *seen_header = true;
      return "";
    }
    if (line.text.starts_with("# synod-history")) return "unsupported version of the format";
    return "expected the header '" + std::string(kSynodHeader) + "'";
  }
  if (line.text.starts_with("#")) return "";
  if (!line.text.starts_with("initial\t")) {
    *consumed = false;
    return "";
  }
  if (seen_op) return "the initial line comes before the operations";
  if (*seen_initial) return "a second initial line";
  *seen_initial = true;
  return ParseSingleValue(line.text.substr(8), "initial value", &history->initial);
}

}  // namespace

Result<History> ParseSynod(std::string_view contents, std::string_view source) {
  History history;
  bool seen_header = false, seen_initial = false;
  for (const text::Line& line : text::SplitLines(contents)) {
    if (text::Trim(line.text).empty()) continue;
    bool consumed = false;
    std::string problem = ParseHeaderOrInitial(line, &seen_header, !history.ops.empty(),
                                               &seen_initial, &history, &consumed);
    if (problem.empty() && !consumed) {
      Operation op;
      problem = ParseOperation(line.text, &op);
      if (problem.empty()) {
        Status valid = ValidateOperation(op);
        if (!valid.ok()) problem = valid.message();
      }
      history.ops.push_back(std::move(op));
    }
    if (!problem.empty()) return text::LineError(source, line.number, problem);
  }
  if (!seen_header) {
    return Status(ErrorCode::kInvalidArgument,
                  std::string(source) + ": missing header '" + std::string(kSynodHeader) + "'");
  }
  return history;
}

namespace {
std::string FormatArgs(const Operation& op) {
  switch (op.kind) {
    case OpKind::kRead:
      return std::string(kNone);
    case OpKind::kWrite:
    case OpKind::kAppend:
      return DescribeValue(op.value);
    case OpKind::kCas:
      return DescribeValue(op.expected) + " " + DescribeValue(op.value);
  }
  SYNOD_UNREACHABLE("bad operation kind");
}
}  // namespace

std::string FormatHistory(const History& history) {
  std::string out(kSynodHeader);
  out += "\n# call\tret\tclient\tkey\top\targs\toutcome\toutput\n";
  out += "initial\t" + DescribeValue(history.initial) + "\n";
  for (const Operation& op : history.ops) {
    out += std::to_string(op.call) + "\t";
    out += (op.ret == kNeverReturned ? std::string(kNone) : std::to_string(op.ret)) + "\t";
    out += std::to_string(op.client) + "\t" + DescribeValue(op.key) + "\t";
    out += std::string(OpKindName(op.kind)) + "\t" + FormatArgs(op) + "\t";
    out += std::string(OutcomeName(op.outcome)) + "\t";
    const bool has_output = op.kind == OpKind::kRead && op.outcome == Outcome::kOk;
    out += (has_output ? DescribeValue(op.output) : std::string(kNone)) + "\n";
  }
  return out;
}

}  // namespace synod::lincheck
