// The Election service (lock_service.h). Observe polls the member's store for the first key
// under the election's prefix, like the waits of lock_recipes.h, and streams each new leader
// key or value it sees.
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <mutex>
#include <string>

#include "server/convert.h"
#include "server/lock_recipes.h"
#include "server/lock_service.h"
#include "server/unary_call.h"
#include "v3electionpb/v3election.grpc.pb.h"

namespace synod::server {
namespace {

// etcd's answers, which it sends as plain errors (gRPC code Unknown).
api::WireStatus NotLeader() {
  return {api::GrpcCode::kUnknown, "election: not leader"};
}
api::WireStatus NoLeader() {
  return {api::GrpcCode::kUnknown, "election: no leader"};
}
api::WireStatus MissingLeader() {
  return {api::GrpcCode::kUnknown, "\"leader\" field must be provided"};
}

// One Observe stream, written by its task's thread. gRPC's callbacks only record what happened;
// the task calls Finish last and never touches the reactor after it (OnDone deletes it).
class ObserveReactor final : public grpc::ServerWriteReactor<v3electionpb::LeaderResponse> {
 public:
  // Writes `resp` and waits until it is written; false when the stream is broken or cancelled.
  bool Write(const v3electionpb::LeaderResponse& resp, const Recipes& recipes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancelled_) return false;
      resp_ = resp;
      writing_ = true;
    }
    // Outside the lock: gRPC may run OnWriteDone before StartWrite returns.
    StartWrite(&resp_);
    std::unique_lock<std::mutex> lock(mu_);
    while (writing_ && !recipes.stopping()) cv_.wait_for(lock, std::chrono::milliseconds(50));
    return !writing_ && !broken_ && !cancelled_;
  }
  bool cancelled() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) broken_ = true;
    cv_.notify_all();
  }
  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  void OnDone() override { delete this; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  v3electionpb::LeaderResponse resp_;
  bool writing_ = false;
  bool broken_ = false;
  bool cancelled_ = false;
};

class ElectionService final : public v3electionpb::Election::CallbackService {
 public:
  explicit ElectionService(ServingContext* ctx) : ctx_(ctx), recipes_(ctx) {}

  grpc::ServerUnaryReactor* Campaign(grpc::CallbackServerContext* call,
                                     const v3electionpb::CampaignRequest* req,
                                     v3electionpb::CampaignResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (req->name().empty()) {
      p->Fail(api::EtcdError::kEmptyKey);
      return p->reactor;
    }
    Spawn(*p, [ctx = ctx_, recipes = &recipes_, p = *p, call, req, resp] {
      const std::string prefix = req->name() + "/";
      const std::string key = ContenderKey(prefix, req->lease());
      Contender mine;
      api::WireStatus s = recipes->Acquire(
          prefix, key, req->lease(), req->value(), true, [call] { return call->IsCancelled(); },
          &mine);
      if (!s.ok()) return p.Fail(s);
      v3electionpb::LeaderKey* leader = resp->mutable_leader();
      leader->set_name(req->name());
      leader->set_key(key);
      leader->set_rev(mine.kv.create_revision);
      leader->set_lease(req->lease());
      FillHeader(*ctx, mine.revision, resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* Proclaim(grpc::CallbackServerContext* call,
                                     const v3electionpb::ProclaimRequest* req,
                                     v3electionpb::ProclaimResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (!req->has_leader()) {
      p->Fail(MissingLeader());
      return p->reactor;
    }
    Spawn(*p, [ctx = ctx_, recipes = &recipes_, p = *p, req, resp] {
      const v3electionpb::LeaderKey& l = req->leader();
      bool held = false;
      int64_t revision = 0;
      api::WireStatus s =
          recipes->PutIfHeld(l.key(), l.rev(), l.lease(), req->value(), &held, &revision);
      if (!s.ok()) return p.Fail(s);
      if (!held) return p.Fail(NotLeader());
      FillHeader(*ctx, revision, resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* Leader(grpc::CallbackServerContext* call,
                                   const v3electionpb::LeaderRequest* req,
                                   v3electionpb::LeaderResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    Spawn(*p, [ctx = ctx_, recipes = &recipes_, p = *p, req, resp] {
      api::WireStatus s = recipes->Barrier();  // a linearizable read, as etcd's Get
      if (!s.ok()) return p.Fail(s);
      const int64_t revision = recipes->revision();
      std::optional<mvcc::KeyValue> first = recipes->First(req->name() + "/");
      if (!first) return p.Fail(NoLeader());
      ToProto(*first, resp->mutable_kv());
      FillHeader(*ctx, revision, resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* Observe(
      grpc::CallbackServerContext* /*call*/, const v3electionpb::LeaderRequest* req) override {
    auto* reactor = new ObserveReactor();
    if (ctx_->stopping()) {
      reactor->Finish(api::ToGrpcStatus(api::EtcdError::kStopped));
      return reactor;
    }
    const bool spawned = recipes_.Spawn([ctx = ctx_, recipes = &recipes_, reactor, req] {
      const std::string prefix = req->name() + "/";
      std::optional<mvcc::KeyValue> last;
      while (!reactor->cancelled() && !recipes->stopping()) {
        std::optional<mvcc::KeyValue> first = recipes->First(prefix);
        const bool changed = first && (!last || first->key != last->key ||
                                       first->mod_revision != last->mod_revision);
        if (changed) {
          v3electionpb::LeaderResponse resp;
          ToProto(*first, resp.mutable_kv());
          FillHeader(*ctx, recipes->revision(), resp.mutable_header());
          if (!reactor->Write(resp, *recipes)) break;
          last = first;
        }
        recipes->Pause();
      }
      reactor->Finish(recipes->stopping() ? api::ToGrpcStatus(api::EtcdError::kStopped)
                                          : grpc::Status::CANCELLED);
    });
    if (!spawned) reactor->Finish(api::ToGrpcStatus(api::EtcdError::kTooManyRequests));
    return reactor;
  }

  grpc::ServerUnaryReactor* Resign(grpc::CallbackServerContext* call,
                                   const v3electionpb::ResignRequest* req,
                                   v3electionpb::ResignResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (!req->has_leader()) {
      p->Fail(MissingLeader());
      return p->reactor;
    }
    Spawn(*p, [ctx = ctx_, recipes = &recipes_, p = *p, req, resp] {
      int64_t revision = 0;
      api::WireStatus s = recipes->Delete(req->leader().key(), req->leader().rev(), &revision);
      if (!s.ok()) return p.Fail(s);
      FillHeader(*ctx, revision, resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

 private:
  void Spawn(const PendingCall& p, std::function<void()> task) {
    if (!recipes_.Spawn(std::move(task))) p.Fail(api::EtcdError::kTooManyRequests);
  }

  ServingContext* const ctx_;
  Recipes recipes_;  // last: joined first, while ctx_ is still there
};

}  // namespace

std::unique_ptr<grpc::Service> NewElectionService(ServingContext* context) {
  return std::make_unique<ElectionService>(context);
}

}  // namespace synod::server
