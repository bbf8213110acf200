// Expected failures are values: Status for operations without a result, Result<T> otherwise.
// Both are [[nodiscard]] so an ignored error is a compile error under -Werror.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace synod {

enum class ErrorCode : uint8_t {
  kOk = 0,
  kInvalidArgument,
  kNotLeader,
  kProposalDropped,
  kCompacted,
  kUnavailable,
  kCorruption,
  kIoError,
  kTimeout,
  kLimitExceeded,
};

const char* ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    SYNOD_ASSERT(!std::get<Status>(v_).ok(), "Result built from an ok Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    SYNOD_ASSERT(!ok(), "status() on a Result that holds a value");
    return std::get<Status>(v_);
  }
  T& value() {
    SYNOD_ASSERT(ok(), "value() on a Result that holds an error");
    return std::get<T>(v_);
  }
  const T& value() const {
    SYNOD_ASSERT(ok(), "value() on a Result that holds an error");
    return std::get<T>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace synod
