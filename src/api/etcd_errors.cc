#include "api/etcd_errors.h"

#include <array>

namespace synod::api {
namespace {

using E = EtcdError;
using C = GrpcCode;

// Messages and codes as etcd 3.4 sends them (its rpctypes package); clients compare the text
// exactly, so never reword an entry.
constexpr std::array<EtcdErrorInfo, kEtcdErrorCount> kTable = {{
    {E::kEmptyKey, C::kInvalidArgument, "etcdserver: key is not provided", "EmptyKey"},
    {E::kKeyNotFound, C::kInvalidArgument, "etcdserver: key not found", "KeyNotFound"},
    {E::kValueProvided, C::kInvalidArgument, "etcdserver: value is provided", "ValueProvided"},
    {E::kLeaseProvided, C::kInvalidArgument, "etcdserver: lease is provided", "LeaseProvided"},
    {E::kTooManyOps, C::kInvalidArgument, "etcdserver: too many operations in txn request",
     "TooManyOps"},
    {E::kDuplicateKey, C::kInvalidArgument, "etcdserver: duplicate key given in txn request",
     "DuplicateKey"},
    {E::kCompacted, C::kOutOfRange, "etcdserver: mvcc: required revision has been compacted",
     "Compacted"},
    {E::kFutureRev, C::kOutOfRange, "etcdserver: mvcc: required revision is a future revision",
     "FutureRev"},
    {E::kNoSpace, C::kResourceExhausted, "etcdserver: mvcc: database space exceeded", "NoSpace"},
    {E::kRequestTooLarge, C::kInvalidArgument, "etcdserver: request is too large",
     "RequestTooLarge"},
    {E::kTooManyRequests, C::kResourceExhausted, "etcdserver: too many requests",
     "TooManyRequests"},

    {E::kLeaseNotFound, C::kNotFound, "etcdserver: requested lease not found", "LeaseNotFound"},
    {E::kLeaseExist, C::kFailedPrecondition, "etcdserver: lease already exists", "LeaseExist"},
    {E::kLeaseTtlTooLarge, C::kOutOfRange, "etcdserver: too large lease TTL", "LeaseTTLTooLarge"},
    {E::kWatchCanceled, C::kCanceled, "etcdserver: watch canceled", "WatchCanceled"},

    {E::kMemberExist, C::kFailedPrecondition, "etcdserver: member ID already exist",
     "MemberExist"},
    {E::kPeerUrlExist, C::kFailedPrecondition, "etcdserver: Peer URLs already exists",
     "PeerURLExist"},
    {E::kMemberNotEnoughStarted, C::kFailedPrecondition,
     "etcdserver: re-configuration failed due to not enough started members",
     "MemberNotEnoughStarted"},
    {E::kMemberBadUrls, C::kInvalidArgument, "etcdserver: given member URLs are invalid",
     "MemberBadURLs"},
    {E::kMemberNotFound, C::kNotFound, "etcdserver: member not found", "MemberNotFound"},
    {E::kMemberNotLearner, C::kFailedPrecondition, "etcdserver: can only promote a learner member",
     "MemberNotLearner"},
    {E::kLearnerNotReady, C::kFailedPrecondition,
     "etcdserver: can only promote a learner member which is in sync with leader",
     "LearnerNotReady"},
    {E::kTooManyLearners, C::kFailedPrecondition,
     "etcdserver: too many learner members in cluster", "TooManyLearners"},

    {E::kRootUserNotExist, C::kFailedPrecondition, "etcdserver: root user does not exist",
     "RootUserNotExist"},
    {E::kRootRoleNotExist, C::kFailedPrecondition, "etcdserver: root user does not have root role",
     "RootRoleNotExist"},
    {E::kUserAlreadyExist, C::kFailedPrecondition, "etcdserver: user name already exists",
     "UserAlreadyExist"},
    {E::kUserEmpty, C::kInvalidArgument, "etcdserver: user name is empty", "UserEmpty"},
    {E::kUserNotFound, C::kFailedPrecondition, "etcdserver: user name not found", "UserNotFound"},
    {E::kRoleAlreadyExist, C::kFailedPrecondition, "etcdserver: role name already exists",
     "RoleAlreadyExist"},
    {E::kRoleNotFound, C::kFailedPrecondition, "etcdserver: role name not found", "RoleNotFound"},
    {E::kRoleEmpty, C::kInvalidArgument, "etcdserver: role name is empty", "RoleEmpty"},
    {E::kAuthFailed, C::kInvalidArgument,
     "etcdserver: authentication failed, invalid user ID or password", "AuthFailed"},
    {E::kPermissionDenied, C::kPermissionDenied, "etcdserver: permission denied",
     "PermissionDenied"},
    {E::kRoleNotGranted, C::kFailedPrecondition, "etcdserver: role is not granted to the user",
     "RoleNotGranted"},
    {E::kPermissionNotGranted, C::kFailedPrecondition,
     "etcdserver: permission is not granted to the role", "PermissionNotGranted"},
    {E::kAuthNotEnabled, C::kFailedPrecondition, "etcdserver: authentication is not enabled",
     "AuthNotEnabled"},
    {E::kInvalidAuthToken, C::kUnauthenticated, "etcdserver: invalid auth token",
     "InvalidAuthToken"},
    {E::kInvalidAuthMgmt, C::kInvalidArgument, "etcdserver: invalid auth management",
     "InvalidAuthMgmt"},
    {E::kAuthOldRevision, C::kInvalidArgument, "etcdserver: revision of auth store is old",
     "AuthOldRevision"},

    {E::kNoLeader, C::kUnavailable, "etcdserver: no leader", "NoLeader"},
    {E::kNotLeader, C::kFailedPrecondition, "etcdserver: not leader", "NotLeader"},
    {E::kLeaderChanged, C::kUnavailable, "etcdserver: leader changed", "LeaderChanged"},
    {E::kNotCapable, C::kUnavailable, "etcdserver: not capable", "NotCapable"},
    {E::kStopped, C::kUnavailable, "etcdserver: server stopped", "Stopped"},
    {E::kTimeout, C::kUnavailable, "etcdserver: request timed out", "Timeout"},
    {E::kTimeoutDueToLeaderFail, C::kUnavailable,
     "etcdserver: request timed out, possibly due to previous leader failure",
     "TimeoutDueToLeaderFail"},
    {E::kTimeoutDueToConnectionLost, C::kUnavailable,
     "etcdserver: request timed out, possibly due to connection lost",
     "TimeoutDueToConnectionLost"},
    {E::kTimeoutWaitAppliedIndex, C::kUnavailable,
     "etcdserver: request timed out, waiting for the applied index took too long",
     "TimeoutWaitAppliedIndex"},
    {E::kUnhealthy, C::kUnavailable, "etcdserver: unhealthy cluster", "Unhealthy"},
    {E::kCorrupt, C::kDataLoss, "etcdserver: corrupt cluster", "Corrupt"},
    {E::kNotSupportedForLearner, C::kUnavailable, "etcdserver: rpc not supported for learner",
     "NotSupportedForLearner"},
    {E::kBadLeaderTransferee, C::kFailedPrecondition, "etcdserver: bad leader transferee",
     "BadLeaderTransferee"},
}};

constexpr bool TableIsIndexedByError() {
  for (size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<size_t>(kTable[i].error) != i) return false;
  }
  return true;
}
static_assert(TableIsIndexedByError(), "kTable rows must follow the order of enum EtcdError");

}  // namespace

const char* GrpcCodeName(GrpcCode code) {
  switch (code) {
    case GrpcCode::kOk:
      return "OK";
    case GrpcCode::kCanceled:
      return "Canceled";
    case GrpcCode::kUnknown:
      return "Unknown";
    case GrpcCode::kInvalidArgument:
      return "InvalidArgument";
    case GrpcCode::kDeadlineExceeded:
      return "DeadlineExceeded";
    case GrpcCode::kNotFound:
      return "NotFound";
    case GrpcCode::kAlreadyExists:
      return "AlreadyExists";
    case GrpcCode::kPermissionDenied:
      return "PermissionDenied";
    case GrpcCode::kResourceExhausted:
      return "ResourceExhausted";
    case GrpcCode::kFailedPrecondition:
      return "FailedPrecondition";
    case GrpcCode::kAborted:
      return "Aborted";
    case GrpcCode::kOutOfRange:
      return "OutOfRange";
    case GrpcCode::kUnimplemented:
      return "Unimplemented";
    case GrpcCode::kInternal:
      return "Internal";
    case GrpcCode::kUnavailable:
      return "Unavailable";
    case GrpcCode::kDataLoss:
      return "DataLoss";
    case GrpcCode::kUnauthenticated:
      return "Unauthenticated";
  }
  SYNOD_UNREACHABLE("GrpcCode out of range");
}

const EtcdErrorInfo& Describe(EtcdError error) {
  const auto index = static_cast<size_t>(error);
  SYNOD_ASSERT(index < kTable.size(), "Describe() needs a real EtcdError, not kCount");
  const EtcdErrorInfo& info = kTable[index];
  SYNOD_ASSERT(info.error == error, "etcd error table out of order");
  return info;
}

std::span<const EtcdErrorInfo, kEtcdErrorCount> AllEtcdErrors() {
  return kTable;
}

std::optional<EtcdError> EtcdErrorFromMessage(std::string_view message) {
  // Linear: about fifty entries, and only error paths call this.
  for (const EtcdErrorInfo& info : kTable) {
    if (info.message == message) return info.error;
  }
  return std::nullopt;
}

WireStatus ToWireStatus(EtcdError error) {
  const EtcdErrorInfo& info = Describe(error);
  SYNOD_ASSERT(info.code != GrpcCode::kOk, "an etcd error never travels as OK");
  return WireStatus{info.code, std::string(info.message)};
}

std::optional<EtcdError> EtcdErrorFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return std::nullopt;
    case ErrorCode::kInvalidArgument:
      return std::nullopt;  // no generic etcd text for it
    // The edge forwards to the leader; failing that, the client should try another member,
    // which etcd clients do on "no leader" (Unavailable).
    case ErrorCode::kNotLeader:
      return EtcdError::kNoLeader;
    // Raft drops proposals while leadership moves; etcd reports that window as a leader change.
    case ErrorCode::kProposalDropped:
      return EtcdError::kLeaderChanged;
    case ErrorCode::kCompacted:
      return EtcdError::kCompacted;
    case ErrorCode::kUnavailable:
      return std::nullopt;
    case ErrorCode::kCorruption:
      return EtcdError::kCorrupt;
    case ErrorCode::kIoError:
      return std::nullopt;
    case ErrorCode::kTimeout:
      return EtcdError::kTimeout;
    case ErrorCode::kLimitExceeded:
      return EtcdError::kTooManyRequests;
  }
  SYNOD_UNREACHABLE("ErrorCode out of range");
}

WireStatus ToWireStatus(const Status& status) {
  if (status.ok()) return WireStatus{};
  if (const std::optional<EtcdError> etcd = EtcdErrorFor(status.code())) {
    return ToWireStatus(*etcd);
  }
  // No etcd equivalent: keep synod's message and pick the code for the client's next move.
  // Unavailable (also for a failing disk) makes etcd clients retry on another member.
  GrpcCode code = GrpcCode::kUnknown;
  switch (status.code()) {
    case ErrorCode::kInvalidArgument:
      code = GrpcCode::kInvalidArgument;
      break;
    case ErrorCode::kUnavailable:
      code = GrpcCode::kUnavailable;
      break;
    case ErrorCode::kIoError:
      code = GrpcCode::kUnavailable;
      break;
    default:
      SYNOD_UNREACHABLE("every other ErrorCode maps to an etcd error");
  }
  return WireStatus{code, "synod: " + status.ToString()};
}

}  // namespace synod::api
