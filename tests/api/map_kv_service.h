// The KV service of the etcd v3 API over a MapKv: Range and Put, every other call answers
// Unimplemented (the generated base class does that). Test-only, see README.md.
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "map_kv.h"

namespace synod::testing {

class MapKvService final : public etcdserverpb::KV::Service {
 public:
  explicit MapKvService(MapKv* kv) : kv_(kv) {}

  grpc::Status Range(grpc::ServerContext* context, const etcdserverpb::RangeRequest* request,
                     etcdserverpb::RangeResponse* response) override;
  grpc::Status Put(grpc::ServerContext* context, const etcdserverpb::PutRequest* request,
                   etcdserverpb::PutResponse* response) override;

 private:
  MapKv* const kv_;  // not owned
};

// A running gRPC server for one MapKv. Stops and joins its threads on destruction.
class WireServer {
 public:
  // Listens on `address` (host:port, port 0 picks a free one). The host must be 127.0.0.1:
  // these servers never accept traffic from another machine. nullptr when it cannot listen;
  // the reason goes to *error.
  static std::unique_ptr<WireServer> Start(const std::string& address, MapKvOptions options,
                                           std::string* error);
  ~WireServer();

  int port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  MapKv& kv() { return kv_; }
  void Wait() { server_->Wait(); }
  void Shutdown();

 private:
  explicit WireServer(MapKvOptions options) : kv_(options), service_(&kv_) {}

  MapKv kv_;
  MapKvService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace synod::testing
