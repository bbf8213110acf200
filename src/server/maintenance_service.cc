#include "server/maintenance_service.h"

#include <grpcpp/grpcpp.h>

#include "api/grpc_status.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "server/serving_context.h"
#include "server/version.h"

namespace synod::server {
namespace {

class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  explicit MaintenanceService(ServingContext* ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* call,
                                   const etcdserverpb::StatusRequest* /*req*/,
                                   etcdserverpb::StatusResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    if (!ctx_->Admit()) {
      reactor->Finish(api::ToGrpcStatus(api::EtcdError::kTooManyRequests));
      return reactor;
    }
    ServingContext* ctx = ctx_;
    // Sizing the store lists its directory: the executor does it, not the gRPC thread.
    ctx_->Run([ctx, reactor, resp] {
      const node::NodeInfo info = ctx->node().Info();
      const int64_t db_bytes = ctx->kv().DiskBytes();
      etcdserverpb::ResponseHeader* h = resp->mutable_header();
      h->set_cluster_id(ctx->cluster_id());
      h->set_member_id(ctx->member_id());
      h->set_revision(ctx->kv().Read([](const mvcc::Store& s) { return s.revision(); }));
      h->set_raft_term(info.term.value);
      resp->set_version(kVersion);
      resp->set_dbsize(db_bytes);
      resp->set_dbsizeinuse(db_bytes);
      resp->set_dbsizequota(ctx->limits().backend_bytes_quota);
      resp->set_leader(info.leader.value);
      resp->set_raftindex(info.commit.value);
      resp->set_raftterm(info.term.value);
      resp->set_raftappliedindex(info.applied.value);
      resp->set_storageversion("3.4.0");
      reactor->Finish(grpc::Status::OK);
      ctx->Release();
    });
    return reactor;
  }

 private:
  ServingContext* const ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewMaintenanceService(ServingContext* context) {
  return std::make_unique<MaintenanceService>(context);
}

}  // namespace synod::server
