#include "server/cluster_service.h"

#include <grpcpp/grpcpp.h>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "server/serving_context.h"

namespace synod::server {
namespace {

class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  ClusterService(ServingContext* ctx, std::vector<ClusterMember> members, uint64_t self_id,
                 std::vector<std::string> self_client_urls) {
    for (const ClusterMember& m : members) {
      etcdserverpb::Member* out = list_.add_members();
      out->set_id(m.id);
      out->set_name(m.name);
      for (const std::string& url : m.peer_urls) out->add_peerurls(url);
      if (m.id == self_id) {
        for (const std::string& url : self_client_urls) out->add_clienturls(url);
      }
    }
    list_.mutable_header()->set_cluster_id(ctx->cluster_id());
    list_.mutable_header()->set_member_id(ctx->member_id());
    ctx_ = ctx;
  }

  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* call,
                                       const etcdserverpb::MemberListRequest* /*req*/,
                                       etcdserverpb::MemberListResponse* resp) override {
    // Nothing to wait for: the list is fixed at start, so it is answered on this thread.
    *resp = list_;
    resp->mutable_header()->set_raft_term(ctx_->node().Info().term.value);
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  ServingContext* ctx_ = nullptr;
  etcdserverpb::MemberListResponse list_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewClusterService(ServingContext* context,
                                                 std::vector<ClusterMember> members,
                                                 uint64_t self_id,
                                                 std::vector<std::string> self_client_urls) {
  return std::make_unique<ClusterService>(context, std::move(members), self_id,
                                          std::move(self_client_urls));
}

}  // namespace synod::server
