#include "server/lock_service.h"

#include <grpcpp/grpcpp.h>

#include <string>

#include "server/lock_recipes.h"
#include "server/unary_call.h"
#include "v3lockpb/v3lock.grpc.pb.h"

namespace synod::server {
namespace {

class LockService final : public v3lockpb::Lock::CallbackService {
 public:
  explicit LockService(ServingContext* ctx) : ctx_(ctx), recipes_(ctx) {}

  grpc::ServerUnaryReactor* Lock(grpc::CallbackServerContext* call,
                                 const v3lockpb::LockRequest* req,
                                 v3lockpb::LockResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (req->name().empty()) {
      p->Fail(api::EtcdError::kEmptyKey);
      return p->reactor;
    }
    ServingContext* ctx = ctx_;
    Recipes* recipes = &recipes_;
    const bool spawned = recipes_.Spawn([ctx, recipes, p = *p, call, req, resp] {
      const std::string prefix = req->name() + "/";
      const std::string key = ContenderKey(prefix, req->lease());
      Contender mine;
      api::WireStatus s = recipes->Acquire(
          prefix, key, req->lease(), "", false, [call] { return call->IsCancelled(); }, &mine);
      if (!s.ok()) return p.Fail(s);
      resp->set_key(key);
      FillHeader(*ctx, mine.revision, resp->mutable_header());
      p.Ok();
    });
    if (!spawned) p->Fail(api::EtcdError::kTooManyRequests);
    return p->reactor;
  }

  grpc::ServerUnaryReactor* Unlock(grpc::CallbackServerContext* call,
                                   const v3lockpb::UnlockRequest* req,
                                   v3lockpb::UnlockResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (req->key().empty()) {
      p->Fail(api::EtcdError::kEmptyKey);
      return p->reactor;
    }
    ServingContext* ctx = ctx_;
    Recipes* recipes = &recipes_;
    const bool spawned = recipes_.Spawn([ctx, recipes, p = *p, req, resp] {
      int64_t revision = 0;
      api::WireStatus s = recipes->Delete(req->key(), 0, &revision);
      if (!s.ok()) return p.Fail(s);
      FillHeader(*ctx, revision, resp->mutable_header());
      p.Ok();
    });
    if (!spawned) p->Fail(api::EtcdError::kTooManyRequests);
    return p->reactor;
  }

 private:
  ServingContext* const ctx_;
  Recipes recipes_;  // last: joined first, while ctx_ is still there
};

}  // namespace

std::unique_ptr<grpc::Service> NewLockService(ServingContext* context) {
  return std::make_unique<LockService>(context);
}

}  // namespace synod::server
