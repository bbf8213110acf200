// Porcupine's key-value histories: one EDN map per line,
//   {:process 0, :type :invoke, :f :get, :key "3", :value nil}
// with :type :invoke / :ok (and :fail / :info, which Jepsen also writes), :f :get / :put /
// :append, string keys and values. Every key is a register starting at "".
#include <map>
#include <unordered_map>

#include "lincheck/parse.h"
#include "lincheck/text.h"

namespace synod::lincheck {
namespace {

struct EdnValue {
  enum class Type : uint8_t { kNil, kString, kKeyword, kInt } type = Type::kNil;
  std::string text;  // the string, the keyword with its colon, or the integer's digits
};

bool IsEdnSeparator(char c) {
  return c == ' ' || c == '\t' || c == ',' || c == '\r';
}

void SkipSeparators(std::string_view* s) {
  while (!s->empty() && IsEdnSeparator(s->front())) s->remove_prefix(1);
}

// A symbol-like token: everything up to a separator or a closing brace.
std::string_view TakeToken(std::string_view* s) {
  size_t n = 0;
  while (n < s->size() && !IsEdnSeparator((*s)[n]) && (*s)[n] != '}') ++n;
  std::string_view token = s->substr(0, n);
  s->remove_prefix(n);
  return token;
}

std::string ReadValue(std::string_view* s, EdnValue* v) {
  if (s->empty()) return "missing value";
  if (s->front() == '"') {
    std::string error;
    std::optional<std::string> str = text::ReadQuoted(s, /*allow_hex_escape=*/false, &error);
    if (!str) return error;
    v->type = EdnValue::Type::kString;
    v->text = std::move(*str);
    return "";
  }
  const std::string_view token = TakeToken(s);
  v->text = std::string(token);
  if (token == "nil") {
    v->type = EdnValue::Type::kNil;
  } else if (token.size() > 1 && token.front() == ':') {
    v->type = EdnValue::Type::kKeyword;
  } else if (text::ParseInt64(token)) {
    v->type = EdnValue::Type::kInt;
  } else {
    return "unsupported value '" + std::string(token) + "'";
  }
  return "";
}

// Reads a flat EDN map whose keys are keywords; returns an error message or "".
std::string ReadMap(std::string_view s, std::map<std::string, EdnValue>* fields) {
  s = text::Trim(s);
  if (s.empty() || s.front() != '{') return "expected '{'";
  s.remove_prefix(1);
  while (true) {
    SkipSeparators(&s);
    if (s.empty()) return "expected '}'";
    if (s.front() == '}') break;
    const std::string_view key = TakeToken(&s);
    if (key.size() < 2 || key.front() != ':')
      return "expected a keyword, got '" + std::string(key) + "'";
    SkipSeparators(&s);
    EdnValue value;
    if (std::string problem = ReadValue(&s, &value); !problem.empty()) return problem;
    if (!fields->emplace(std::string(key), std::move(value)).second) {
      return "repeated key " + std::string(key);
    }
  }
  s.remove_prefix(1);
  if (!text::Trim(s).empty()) return "text after the closing '}'";
  return "";
}

struct KvEvent {
  uint64_t process = 0;
  std::string type;
  OpKind kind = OpKind::kRead;
  std::string key;
  EdnValue value;
};

std::string ToEvent(std::map<std::string, EdnValue>& fields, KvEvent* e) {
  for (const char* required : {":process", ":type", ":f", ":key", ":value"}) {
    if (!fields.contains(required)) return std::string("missing ") + required;
  }
  std::optional<uint64_t> process = text::ParseUint64(fields[":process"].text);
  if (fields[":process"].type != EdnValue::Type::kInt || !process) return "bad :process";
  e->process = *process;
  e->type = fields[":type"].text;
  if (e->type != ":invoke" && e->type != ":ok" && e->type != ":fail" && e->type != ":info") {
    return "unknown :type " + e->type;
  }
  const std::string& f = fields[":f"].text;
  if (f == ":get") {
    e->kind = OpKind::kRead;
  } else if (f == ":put") {
    e->kind = OpKind::kWrite;
  } else if (f == ":append") {
    e->kind = OpKind::kAppend;
  } else {
    return "unknown :f " + f;
  }
  const EdnValue& key = fields[":key"];
  if (key.type != EdnValue::Type::kString && key.type != EdnValue::Type::kInt) {
    return "a :key is a string";
  }
  e->key = key.text;
  e->value = std::move(fields[":value"]);
  return "";
}

std::optional<std::string> StringOrNil(const EdnValue& v) {
  if (v.type == EdnValue::Type::kNil) return std::nullopt;
  return v.text;
}

std::string Apply(const KvEvent& e, int64_t time, std::unordered_map<uint64_t, size_t>* pending,
                  History* history) {
  const bool is_string = e.value.type == EdnValue::Type::kString;
  auto it = pending->find(e.process);
  if (e.type == ":invoke") {
    if (it != pending->end()) return "process invokes with an operation open";
    if (e.kind != OpKind::kRead && !is_string) return "put and append need a string :value";
    Operation op;
    op.client = e.process;
    op.key = e.key;
    op.kind = e.kind;
    if (e.kind != OpKind::kRead) op.value = e.value.text;
    op.outcome = Outcome::kUnknown;
    op.call = time;
    (*pending)[e.process] = history->ops.size();
    history->ops.push_back(std::move(op));
    return "";
  }
  if (it == pending->end()) return "process completes with nothing open";
  Operation& op = history->ops[it->second];
  pending->erase(it);
  if (op.kind != e.kind || op.key != e.key) return "completes a different operation";
  if (e.type == ":info") return "";
  op.ret = time;
  op.outcome = e.type == ":ok" ? Outcome::kOk : Outcome::kFail;
  if (op.kind == OpKind::kRead && op.outcome == Outcome::kOk) {
    if (!is_string && e.value.type != EdnValue::Type::kNil) return "a get returns a string";
    op.output = StringOrNil(e.value);
  }
  return "";
}

}  // namespace

Result<History> ParsePorcupineKv(std::string_view contents, std::string_view source) {
  History history;
  history.initial = std::string();
  std::unordered_map<uint64_t, size_t> pending;  // process -> its open operation
  for (const text::Line& line : text::SplitLines(contents)) {
    if (text::Trim(line.text).empty()) continue;
    std::map<std::string, EdnValue> fields;
    KvEvent e;
    std::string problem = ReadMap(line.text, &fields);
    if (problem.empty()) problem = ToEvent(fields, &e);
    if (problem.empty()) {
      problem = Apply(e, static_cast<int64_t>(line.number), &pending, &history);
    }
    if (!problem.empty()) return text::LineError(source, line.number, problem);
  }
  Status valid = ValidateHistory(history);
  if (!valid.ok()) {
    return Status(ErrorCode::kInvalidArgument, std::string(source) + ": " + valid.message());
  }
  return history;
}

}  // namespace synod::lincheck
