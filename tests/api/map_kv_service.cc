#include "map_kv_service.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "api/grpc_status.h"
#include "base/assert.h"

namespace synod::testing {

grpc::Status MapKvService::Range(grpc::ServerContext* /*context*/,
                                 const etcdserverpb::RangeRequest* request,
                                 etcdserverpb::RangeResponse* response) {
  return api::ToGrpcStatus(kv_->Range(*request, response));
}

grpc::Status MapKvService::Put(grpc::ServerContext* /*context*/,
                               const etcdserverpb::PutRequest* request,
                               etcdserverpb::PutResponse* response) {
  return api::ToGrpcStatus(kv_->Put(*request, response));
}

std::unique_ptr<WireServer> WireServer::Start(const std::string& address, MapKvOptions options,
                                              std::string* error) {
  if (!address.starts_with("127.0.0.1:")) {
    *error = "listen address must be 127.0.0.1:<port>, got '" + address + "'";
    return nullptr;
  }
  std::unique_ptr<WireServer> server(new WireServer(options));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &server->port_);
  builder.RegisterService(&server->service_);
  // Leave room above the etcd request limit so MapKv, not gRPC, rejects an oversized request
  // and the client sees etcd's error; etcd sizes its gRPC limit the same way.
  const int64_t grpc_limit = options.request_bytes_max + 512 * 1024;
  SYNOD_ASSERT(grpc_limit < (int64_t{1} << 31), "request_bytes_max too large for gRPC");
  builder.SetMaxReceiveMessageSize(static_cast<int>(grpc_limit));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    *error = "cannot listen on " + address;
    return nullptr;
  }
  return server;
}

void WireServer::Shutdown() {
  if (server_ != nullptr) server_->Shutdown();
}

WireServer::~WireServer() {
  Shutdown();
  if (server_ != nullptr) server_->Wait();
}

}  // namespace synod::testing
