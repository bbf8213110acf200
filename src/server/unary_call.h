// What every unary etcd call of the server does alike: admission (BeginUnary), the answer that
// frees the admission slot (PendingCall), and the response header (FillHeader). Included only
// by the service .cc files, which include gRPC anyway.
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>

#include "api/etcd_errors.h"
#include "api/grpc_status.h"
#include "etcdserverpb/rpc.pb.h"
#include "server/errors.h"
#include "server/serving_context.h"

namespace synod::server {

// One admitted unary request: finishing it answers the client and frees its admission slot.
// After a Finish the request and response messages belong to gRPC again and must not be
// touched.
struct PendingCall {
  ServingContext* ctx;
  grpc::ServerUnaryReactor* reactor;

  void Ok() const { Finish(grpc::Status::OK); }
  void Fail(const api::WireStatus& w) const { Finish(api::ToGrpcStatus(w)); }
  void Fail(api::EtcdError e) const { Finish(api::ToGrpcStatus(e)); }
  void Fail(const Status& s) const { Fail(ToWireStatus(s, ctx->stopping())); }

 private:
  void Finish(const grpc::Status& s) const {
    reactor->Finish(s);
    ctx->Release();
  }
};

// Admits the request, or answers it ("server stopped", "too many requests") and returns
// nullopt; the caller then returns call->DefaultReactor().
inline std::optional<PendingCall> BeginUnary(ServingContext* ctx,
                                             grpc::CallbackServerContext* call) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  if (ctx->stopping()) {
    reactor->Finish(api::ToGrpcStatus(api::EtcdError::kStopped));
    return std::nullopt;
  }
  if (!ctx->Admit()) {
    reactor->Finish(api::ToGrpcStatus(api::EtcdError::kTooManyRequests));
    return std::nullopt;
  }
  return PendingCall{ctx, reactor};
}

// etcd's response header: who answers, at which revision, in which Raft term.
inline void FillHeader(const ServingContext& ctx, int64_t revision,
                       etcdserverpb::ResponseHeader* h) {
  h->set_cluster_id(ctx.cluster_id());
  h->set_member_id(ctx.member_id());
  h->set_revision(revision);
  h->set_raft_term(ctx.node().Info().term.value);
}

}  // namespace synod::server
