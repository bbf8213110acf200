// gRPC server metrics in go-grpc-prometheus's names, which etcd exports and its dashboards read:
// grpc_server_started_total, grpc_server_handled_total and grpc_server_handling_seconds, by
// grpc_type, grpc_service, grpc_method (and grpc_code once handled). Collected by a server
// interceptor, so the services need no code of their own.
//
//   builder.experimental().SetInterceptorCreators(...NewGrpcMetricsInterceptorFactory(&r)...);
#pragma once

#include <memory>
#include <string>

#include "metrics/registry.h"

namespace grpc::experimental {
class ServerInterceptorFactoryInterface;
}  // namespace grpc::experimental

namespace synod::api {

// REQUIRES: `registry` outlives every server built with the factory.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewGrpcMetricsInterceptorFactory(metrics::Registry* registry);

// "/etcdserverpb.KV/Put" -> {"etcdserverpb.KV", "Put"}; {"unknown", name} if not of that form.
std::pair<std::string, std::string> SplitGrpcMethod(const std::string& full_name);
// Go's names of the gRPC codes ("OK", "DeadlineExceeded", ...), as grpc_code carries them.
const char* GrpcCodeName(int code);

}  // namespace synod::api
