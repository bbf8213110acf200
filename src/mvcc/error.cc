#include "mvcc/error.h"

namespace synod::mvcc {

const char* ErrcMessage(Errc code) {
  switch (code) {
    case Errc::kCompacted: return "required revision has been compacted";
    case Errc::kFutureRevision: return "required revision is a future revision";
    case Errc::kKeyNotFound: return "key not found";
    case Errc::kLeaseNotFound: return "requested lease not found";
    case Errc::kLeaseExists: return "lease already exists";
    case Errc::kDuplicateKey: return "duplicate key given in txn request";
    case Errc::kTooManyOps: return "too many operations in txn request";
    case Errc::kEmptyKey: return "key is not provided";
    case Errc::kValueProvided: return "value is provided";
    case Errc::kLeaseProvided: return "lease is provided";
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kNoSpace: return "database space exceeded";
    case Errc::kStaleFence:
      return "fencing token is older than the lock's newest holder";
    case Errc::kStorage: return "storage failure";
    case Errc::kCorruption: return "corrupted store";
  }
  return "unknown error";
}

std::string Error::ToString() const {
  std::string s = ErrcMessage(code_);
  if (!detail_.empty()) s += " (" + detail_ + ")";
  return s;
}

Status Error::ToStatus() const {
  switch (code_) {
    case Errc::kCompacted: return Status(ErrorCode::kCompacted, ToString());
    case Errc::kStorage: return Status(ErrorCode::kIoError, ToString());
    case Errc::kCorruption: return Status(ErrorCode::kCorruption, ToString());
    case Errc::kTooManyOps:
    case Errc::kNoSpace: return Status(ErrorCode::kLimitExceeded, ToString());
    default: return Status(ErrorCode::kInvalidArgument, ToString());
  }
}

}  // namespace synod::mvcc
