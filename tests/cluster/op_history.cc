#include "op_history.h"

#include <fstream>

#include "base/assert.h"
#include "lincheck/parse.h"

namespace synod::cluster_test {

int64_t OpHistory::Now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start_)
      .count();
}

OpHistory::OpId OpHistory::Invoke(uint64_t client, const std::string& key, lincheck::OpKind kind,
                                  std::optional<std::string> value,
                                  std::optional<std::string> expected) {
  lincheck::Operation op;
  op.client = client;
  op.key = key;
  op.kind = kind;
  op.value = std::move(value);
  op.expected = std::move(expected);
  op.outcome = lincheck::Outcome::kUnknown;
  std::lock_guard lock(mu_);
  // Taken under the lock, before the caller sends the request: the call time never follows the
  // moment a server could have seen it.
  op.call = Now();
  ops_.push_back(std::move(op));
  ended_.push_back(false);
  dropped_.push_back(false);
  return ops_.size() - 1;
}

void OpHistory::Ok(OpId id, std::optional<std::string> output) {
  std::lock_guard lock(mu_);
  SYNOD_ASSERT(id < ops_.size() && !ended_[id], "operation ended twice");
  lincheck::Operation& op = ops_[id];
  op.ret = Now();
  op.outcome = lincheck::Outcome::kOk;
  if (op.kind == lincheck::OpKind::kRead) op.output = std::move(output);
  ended_[id] = true;
}

void OpHistory::Fail(OpId id) {
  std::lock_guard lock(mu_);
  SYNOD_ASSERT(id < ops_.size() && !ended_[id], "operation ended twice");
  ops_[id].ret = Now();
  ops_[id].outcome = lincheck::Outcome::kFail;
  ended_[id] = true;
}

void OpHistory::Unknown(OpId id) {
  std::lock_guard lock(mu_);
  SYNOD_ASSERT(id < ops_.size() && !ended_[id], "operation ended twice");
  ops_[id].ret = lincheck::kNeverReturned;
  ops_[id].outcome = lincheck::Outcome::kUnknown;
  ended_[id] = true;
}

bool NeverSent(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  // gRPC fails a call on a channel that cannot connect with "failed to connect to all
  // addresses" before anything was written. A broken connection ("Socket closed", "Connection
  // reset") may have carried the request: that stays unknown.
  if (status.error_message().find("failed to connect") != std::string::npos) return true;
  // synod answers "no leader" only when its Raft node refused the proposal because it knows no
  // leader (src/node/node.cc, ProposeBatch), before the command could enter any log. If that
  // claim were wrong, the command's value could show up later and the checker would say so.
  return status.error_message() == "etcdserver: no leader";
}

void OpHistory::Error(OpId id, const grpc::Status& status) {
  SYNOD_ASSERT(!status.ok(), "Error() with an ok status");
  bool read = false;
  {
    std::lock_guard lock(mu_);
    SYNOD_ASSERT(id < ops_.size(), "unknown operation");
    read = ops_[id].kind == lincheck::OpKind::kRead;
    ++errors_[std::to_string(status.error_code()) + ": " + status.error_message()];
  }
  // A read without a value constrains nothing, whatever happened to it.
  if (read) {
    Fail(id);
  } else if (NeverSent(status)) {
    Drop(id);
  } else {
    Unknown(id);
  }
}

void OpHistory::Drop(OpId id) {
  std::lock_guard lock(mu_);
  SYNOD_ASSERT(id < ops_.size() && !ended_[id], "operation ended twice");
  ended_[id] = true;
  dropped_[id] = true;
}

lincheck::History OpHistory::Snapshot() const {
  lincheck::History h;
  h.initial = std::nullopt;  // every key starts absent
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (dropped_[i]) continue;
    h.ops.push_back(ops_[i]);
    if (!ended_[i]) {
      h.ops.back().outcome = lincheck::Outcome::kUnknown;
      h.ops.back().ret = lincheck::kNeverReturned;
    }
  }
  return h;
}

std::map<std::string, size_t> OpHistory::errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

OpHistory::Counts OpHistory::counts() const {
  Counts c;
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (dropped_[i]) {
      ++c.dropped;
    } else if (!ended_[i] || ops_[i].outcome == lincheck::Outcome::kUnknown) {
      ++c.unknown;
    } else if (ops_[i].outcome == lincheck::Outcome::kOk) {
      ++c.ok;
    } else {
      ++c.fail;
    }
  }
  return c;
}

Status CheckLinearizable(const lincheck::History& history, const std::string& path,
                         double seconds) {
  if (!path.empty()) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << lincheck::FormatHistory(history);
    if (!out) return Status(ErrorCode::kIoError, "cannot write " + path);
  }
  const Status valid = lincheck::ValidateHistory(history);
  if (!valid.ok()) return valid;
  lincheck::CheckOptions options;
  options.time_budget_seconds = seconds;
  const lincheck::CheckResult r = lincheck::Check(history, options);
  if (r.verdict == lincheck::Verdict::kLinearizable) return Status::Ok();
  // Not linearizable: what the system returned is inconsistent. Unknown: a budget ran out.
  const ErrorCode code = r.verdict == lincheck::Verdict::kNotLinearizable
                             ? ErrorCode::kCorruption
                             : ErrorCode::kLimitExceeded;
  return Status(code, std::string(lincheck::VerdictName(r.verdict)) + " (" +
                          std::to_string(history.ops.size()) + " operations, key " + r.key +
                          "): " + r.explanation);
}

}  // namespace synod::cluster_test
