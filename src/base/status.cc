#include "base/status.h"

namespace synod {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotLeader: return "not leader";
    case ErrorCode::kProposalDropped: return "proposal dropped";
    case ErrorCode::kCompacted: return "compacted";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kIoError: return "i/o error";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kLimitExceeded: return "limit exceeded";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

}  // namespace synod
