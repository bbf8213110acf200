#include "api/grpc_status.h"

namespace synod::api {
namespace {

constexpr bool SameCode(GrpcCode ours, grpc::StatusCode theirs) {
  return static_cast<int>(ours) == static_cast<int>(theirs);
}
static_assert(SameCode(GrpcCode::kOk, grpc::StatusCode::OK));
static_assert(SameCode(GrpcCode::kCanceled, grpc::StatusCode::CANCELLED));
static_assert(SameCode(GrpcCode::kUnknown, grpc::StatusCode::UNKNOWN));
static_assert(SameCode(GrpcCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT));
static_assert(SameCode(GrpcCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED));
static_assert(SameCode(GrpcCode::kNotFound, grpc::StatusCode::NOT_FOUND));
static_assert(SameCode(GrpcCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS));
static_assert(SameCode(GrpcCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED));
static_assert(SameCode(GrpcCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED));
static_assert(SameCode(GrpcCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION));
static_assert(SameCode(GrpcCode::kAborted, grpc::StatusCode::ABORTED));
static_assert(SameCode(GrpcCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE));
static_assert(SameCode(GrpcCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED));
static_assert(SameCode(GrpcCode::kInternal, grpc::StatusCode::INTERNAL));
static_assert(SameCode(GrpcCode::kUnavailable, grpc::StatusCode::UNAVAILABLE));
static_assert(SameCode(GrpcCode::kDataLoss, grpc::StatusCode::DATA_LOSS));
static_assert(SameCode(GrpcCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED));

}  // namespace

grpc::Status ToGrpcStatus(const WireStatus& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code), status.message);
}

grpc::Status ToGrpcStatus(EtcdError error) {
  return ToGrpcStatus(ToWireStatus(error));
}

grpc::Status ToGrpcStatus(const Status& status) {
  return ToGrpcStatus(ToWireStatus(status));
}

std::optional<EtcdError> EtcdErrorFromGrpc(const grpc::Status& status) {
  const std::optional<EtcdError> error = EtcdErrorFromMessage(status.error_message());
  if (!error) return std::nullopt;
  if (!SameCode(Describe(*error).code, status.error_code())) return std::nullopt;
  return error;
}

}  // namespace synod::api
