// etcd errors and synod statuses as grpc::Status, for the gRPC services at the client edge.
// The only header of src/api that pulls in gRPC; the rest of synod uses etcd_errors.h.
#pragma once

#include <grpcpp/support/status.h>

#include "api/etcd_errors.h"
#include "base/status.h"

namespace synod::api {

grpc::Status ToGrpcStatus(const WireStatus& status);
grpc::Status ToGrpcStatus(EtcdError error);
grpc::Status ToGrpcStatus(const Status& status);

// The reverse, for synod's own clients: the etcd error a received status carries, if any.
// A message alone is not enough: the code must match the table too.
std::optional<EtcdError> EtcdErrorFromGrpc(const grpc::Status& status);

}  // namespace synod::api
