// The errors synod's etcd v3 API answers with, exactly as etcd clients expect them.
//
// etcd clients recognise server errors by gRPC status code and message text: the Go client
// turns a known message back into a typed error (ErrCompacted, ErrNoLeader, ...), and its retry
// logic and most other client libraries branch on the code. So each entry below pins both, and
// the messages must stay byte-for-byte identical to etcd's (tests/api checks them).
//
// This header is free of gRPC so that any layer can name an etcd error; grpc_status.h turns
// these values into grpc::Status at the edge.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace synod::api {

// gRPC status codes, same numbers as grpc::StatusCode (grpc_status.cc asserts it).
enum class GrpcCode : uint8_t {
  kOk = 0,
  kCanceled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

const char* GrpcCodeName(GrpcCode code);

// Every error etcd 3.4 servers send with a fixed message. Order is the order of the table in
// etcd_errors.cc; kCount must stay last.
enum class EtcdError : uint8_t {
  // Requests.
  kEmptyKey,
  kKeyNotFound,
  kValueProvided,
  kLeaseProvided,
  kTooManyOps,
  kDuplicateKey,
  kCompacted,
  kFutureRev,
  kNoSpace,
  kRequestTooLarge,
  kTooManyRequests,
  // Leases and watches.
  kLeaseNotFound,
  kLeaseExist,
  kLeaseTtlTooLarge,
  kWatchCanceled,
  // Membership.
  kMemberExist,
  kPeerUrlExist,
  kMemberNotEnoughStarted,
  kMemberBadUrls,
  kMemberNotFound,
  kMemberNotLearner,
  kLearnerNotReady,
  kTooManyLearners,
  // Authentication.
  kRootUserNotExist,
  kRootRoleNotExist,
  kUserAlreadyExist,
  kUserEmpty,
  kUserNotFound,
  kRoleAlreadyExist,
  kRoleNotFound,
  kRoleEmpty,
  kAuthFailed,
  kPermissionDenied,
  kRoleNotGranted,
  kPermissionNotGranted,
  kAuthNotEnabled,
  kInvalidAuthToken,
  kInvalidAuthMgmt,
  kAuthOldRevision,
  // Cluster and leadership.
  kNoLeader,
  kNotLeader,
  kLeaderChanged,
  kNotCapable,
  kStopped,
  kTimeout,
  kTimeoutDueToLeaderFail,
  kTimeoutDueToConnectionLost,
  kTimeoutWaitAppliedIndex,
  kUnhealthy,
  kCorrupt,
  kNotSupportedForLearner,
  kBadLeaderTransferee,
  kCount,
};

inline constexpr size_t kEtcdErrorCount = static_cast<size_t>(EtcdError::kCount);

struct EtcdErrorInfo {
  EtcdError error;
  GrpcCode code;
  std::string_view message;  // what the client sees, e.g. "etcdserver: no leader"
  std::string_view name;     // our identifier, for logs and tests
};

// REQUIRES: error != kCount.
const EtcdErrorInfo& Describe(EtcdError error);

// The whole table, indexed by EtcdError.
std::span<const EtcdErrorInfo, kEtcdErrorCount> AllEtcdErrors();

// The error a client would decode from a status message; nullopt for any other text.
// synod's own clients (synod-bench, tests) use it to read errors from synod and etcd alike.
std::optional<EtcdError> EtcdErrorFromMessage(std::string_view message);

// A gRPC status as plain data: what the edge puts on the wire.
struct WireStatus {
  GrpcCode code = GrpcCode::kOk;
  std::string message;

  bool ok() const { return code == GrpcCode::kOk; }
};

WireStatus ToWireStatus(EtcdError error);

// The etcd error a synod ErrorCode stands for at the client edge, when there is one.
// ErrorCode carries no detail (which limit, which key), so code that knows more, such as the
// request validator, names the EtcdError itself instead of going through this mapping.
std::optional<EtcdError> EtcdErrorFor(ErrorCode code);

// Status -> wire: the etcd error when EtcdErrorFor has one, otherwise the status's own message
// under the code that makes etcd clients behave correctly (see etcd_errors.cc).
WireStatus ToWireStatus(const Status& status);

}  // namespace synod::api
