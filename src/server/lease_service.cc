#include "server/lease_service.h"

#include <grpcpp/grpcpp.h>

#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "api/grpc_status.h"
#include "base/assert.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "server/command.pb.h"
#include "server/errors.h"
#include "server/lessor.h"
#include "server/serving_context.h"
#include "server/unary_call.h"

namespace synod::server {
namespace {

using api::EtcdError;

// Keep-alives of one stream proposed and not yet answered; beyond it the stream stops reading
// until answers drain (the client's requests then wait in gRPC's flow control).
constexpr int kStreamKeepAlivesInflightMax = 64;

int64_t StoreRevision(const ServingContext& ctx) {
  return ctx.kv().Read([](const mvcc::Store& s) { return s.revision(); });
}

// Proposes `command`; `done` gets the apply result (on the executor) or the node's failure.
void ProposeThen(ServingContext* ctx, const serverpb::Command& command,
                 std::function<void(Result<std::any>)> done) {
  ctx->node().Propose(command.SerializeAsString(), [ctx, done](Result<std::any> r) {
    ctx->Run([done, r = std::move(r)]() mutable { done(std::move(r)); });
  });
}

// LeaseKeepAlive: each request is proposed as a keep-alive command and answered once applied
// (answers may leave out of request order: each carries its lease id, as in etcd). A failed
// proposal ends the stream with the node's error (etcd clients open a new stream). Every event changes the state under mu_ and decides there
// what to start next (Step); gRPC operations are started after the lock is released, since
// gRPC may run a reaction inline on the thread that starts an operation. The stream deletes
// itself once gRPC is done with it (OnDone) and no proposal of it is still in flight.
class KeepAliveStream final : public grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                                                             etcdserverpb::LeaseKeepAliveResponse> {
 public:
  explicit KeepAliveStream(ServingContext* ctx) : ctx_(ctx) {
    Step([] {});
  }

  void OnReadDone(bool ok) override {
    std::optional<int64_t> lease;
    Step([&] {
      reading_ = false;
      if (!ok) {
        reads_closed_ = true;
      } else if (!finish_) {
        if (ctx_->stopping()) {
          finish_ = api::ToGrpcStatus(EtcdError::kStopped);
        } else if (!ctx_->Admit()) {
          finish_ = api::ToGrpcStatus(EtcdError::kTooManyRequests);
        } else {
          ++inflight_;  // keeps the stream alive until the answer
          lease = request_.id();
        }
      }
    });
    if (lease) Propose(*lease);
  }

  void OnWriteDone(bool ok) override {
    Step([&] {
      writing_ = false;
      if (!ok && !finish_) finish_ = grpc::Status(grpc::StatusCode::CANCELLED, "stream broken");
    });
  }

  void OnCancel() override {
    Step([&] {
      if (!finish_) finish_ = grpc::Status(grpc::StatusCode::CANCELLED, "canceled");
    });
  }

  void OnDone() override {
    Step([&] { done_ = true; });
  }

 private:
  // REQUIRES: inflight_ counts this keep-alive.
  void Propose(int64_t lease) {
    serverpb::Command c;
    c.mutable_lease_keep_alive()->set_id(lease);
    ServingContext* ctx = ctx_;
    ProposeThen(ctx_, c, [this, ctx, lease](Result<std::any> r) {
      etcdserverpb::LeaseKeepAliveResponse resp;
      std::optional<grpc::Status> failed;
      if (!r.ok()) {
        failed = api::ToGrpcStatus(ToWireStatus(r.status(), ctx->stopping()));
      } else {
        const auto* out = std::any_cast<KeepAliveOutcome>(&r.value());
        SYNOD_ASSERT(out != nullptr, "a keep-alive applies to a KeepAliveOutcome");
        resp.set_id(lease);
        resp.set_ttl(out->ttl_seconds);
        FillHeader(*ctx, out->revision, resp.mutable_header());
      }
      // The stream may be gone once Step returns: nothing of it is touched after.
      Step([&] {
        SYNOD_ASSERT(inflight_ > 0, "an answer for each keep-alive in flight");
        --inflight_;
        if (failed && !finish_) finish_ = std::move(failed);
        if (!failed && !finish_) queue_.push_back(std::move(resp));
      });
      ctx->Release();
    });
  }

  // Runs `change` under mu_, decides what to start next, then starts it without the lock.
  // Finish comes last and nothing of the stream is touched after it or after the delete.
  template <typename Change>
  void Step(Change&& change) {
    bool read = false, write = false, destroy = false;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard<std::mutex> lock(mu_);
      change();
      if (!finished_) {
        if (!finish_ && reads_closed_ && inflight_ == 0 && queue_.empty() && !writing_) {
          finish_ = grpc::Status::OK;  // the client closed its side and has every answer
        }
        if (!finish_ && !writing_ && !queue_.empty()) {
          current_ = std::move(queue_.front());
          queue_.pop_front();
          writing_ = write = true;
        }
        if (finish_ && !writing_) {
          finished_ = true;
          finish = *finish_;
        } else if (!finish_ && !reading_ && !reads_closed_ &&
                   inflight_ + static_cast<int>(queue_.size()) < kStreamKeepAlivesInflightMax) {
          reading_ = read = true;
        }
      }
      if (write || read) ++starting_;
      destroy = MayDestroy();
    }
    if (destroy) {
      delete this;
      return;
    }
    if (finish) {
      SYNOD_ASSERT(!write && !read, "Finish is started alone");
      Finish(*finish);
      return;
    }
    if (!write && !read) return;
    // A started operation may complete, and the stream finish, on another thread before the
    // next one starts: starting_ keeps the stream alive until both are started.
    if (write) StartWrite(&current_);
    if (read) StartRead(&request_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --starting_;
      destroy = MayDestroy();
    }
    if (destroy) delete this;
  }

  // OnDone comes after every gRPC reaction; the proposals' answers may come later still.
  // REQUIRES: mu_ held.
  bool MayDestroy() {
    if (!done_ || inflight_ > 0 || starting_ > 0 || destroyed_) return false;
    destroyed_ = true;
    return true;
  }

  ServingContext* const ctx_;
  std::mutex mu_;                                 // guards everything below
  etcdserverpb::LeaseKeepAliveRequest request_;   // gRPC's while reading_
  etcdserverpb::LeaseKeepAliveResponse current_;  // gRPC's while writing_
  std::deque<etcdserverpb::LeaseKeepAliveResponse> queue_;
  int inflight_ = 0;
  int starting_ = 0;  // Steps between deciding to start operations and having started them
  bool reading_ = false;
  bool reads_closed_ = false;
  bool writing_ = false;
  std::optional<grpc::Status> finish_;  // the status to finish with, once no write is pending
  bool finished_ = false;
  bool done_ = false;
  bool destroyed_ = false;
};

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  LeaseService(ServingContext* ctx, Lessor* lessor, LeaseIdGenerator* ids)
      : ctx_(ctx), lessor_(lessor), ids_(ids) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* call,
                                       const etcdserverpb::LeaseGrantRequest* req,
                                       etcdserverpb::LeaseGrantResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (req->ttl() > kLeaseTtlSecondsMax) {
      p->Fail(EtcdError::kLeaseTtlTooLarge);
      return p->reactor;
    }
    if (ctx_->CachedDiskBytes() > ctx_->limits().backend_bytes_quota) {
      p->Fail(EtcdError::kNoSpace);  // etcd's quota covers grants too
      return p->reactor;
    }
    serverpb::Command c;
    etcdserverpb::LeaseGrantRequest* grant = c.mutable_lease_grant();
    grant->set_id(req->id() != 0 ? req->id() : ids_->Next());
    grant->set_ttl(lessor_->EffectiveTtl(req->ttl()));
    ServingContext* ctx = ctx_;
    ProposeThen(ctx_, c, [ctx, p = *p, resp, id = grant->id(), ttl = grant->ttl()](auto r) {
      const ApplyOutcome* out = Unwrap(p, r);
      if (out == nullptr) return;
      resp->set_id(id);
      resp->set_ttl(ttl);
      FillHeader(*ctx, out->value().revision, resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* call,
                                        const etcdserverpb::LeaseRevokeRequest* req,
                                        etcdserverpb::LeaseRevokeResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    serverpb::Command c;
    c.mutable_lease_revoke()->set_id(req->id());
    ServingContext* ctx = ctx_;
    ProposeThen(ctx_, c, [ctx, p = *p, resp](Result<std::any> r) {
      const ApplyOutcome* out = Unwrap(p, r);
      if (out == nullptr) return;
      FillHeader(*ctx, out->value().revision, resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                          etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext* /*call*/) override {
    return new KeepAliveStream(ctx_);  // deletes itself
  }

  grpc::ServerUnaryReactor* LeaseTimeToLive(grpc::CallbackServerContext* call,
                                            const etcdserverpb::LeaseTimeToLiveRequest* req,
                                            etcdserverpb::LeaseTimeToLiveResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    ServingContext* ctx = ctx_;
    Lessor* lessor = lessor_;
    AfterBarrier(*p, [ctx, lessor, p = *p, req, resp] {
      resp->set_id(req->id());
      const std::optional<LeaseTtl> ttl = lessor->TimeToLive(req->id());
      if (!ttl) {
        resp->set_ttl(-1);  // etcd's answer for a lease that does not exist (any more)
      } else {
        resp->set_ttl(ttl->remaining_seconds);
        resp->set_grantedttl(ttl->granted_seconds);
      }
      if (ttl && req->keys()) {
        auto keys = ctx->kv().Read([&](const mvcc::Store& s) { return s.LeaseKeys(req->id()); });
        if (!keys.ok()) return p.Fail(ToWireStatus(keys.error()));
        for (std::string& k : keys.value()) resp->add_keys(std::move(k));
      }
      FillHeader(*ctx, StoreRevision(*ctx), resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* call,
                                        const etcdserverpb::LeaseLeasesRequest* /*req*/,
                                        etcdserverpb::LeaseLeasesResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    ServingContext* ctx = ctx_;
    AfterBarrier(*p, [ctx, p = *p, resp] {
      auto leases = ctx->kv().Read([](const mvcc::Store& s) { return s.Leases(); });
      if (!leases.ok()) return p.Fail(ToWireStatus(leases.error()));
      for (const mvcc::Lease& l : leases.value()) resp->add_leases()->set_id(l.id);
      FillHeader(*ctx, StoreRevision(*ctx), resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

 private:

  // The store's answer to an applied grant or revoke, or nullptr once `p` is answered with
  // the failure.
  static const ApplyOutcome* Unwrap(const PendingCall& p, const Result<std::any>& r) {
    if (!r.ok()) {
      p.Fail(r.status());
      return nullptr;
    }
    const auto* out = std::any_cast<ApplyOutcome>(&r.value());
    SYNOD_ASSERT(out != nullptr, "KvMachine::Apply returns an ApplyOutcome");
    if (!out->ok()) {
      p.Fail(ToWireStatus(out->error()));
      return nullptr;
    }
    return out;
  }

  // Lease reads are linearizable, as etcd's (which asks the leader): a read barrier first.
  void AfterBarrier(const PendingCall& p, std::function<void()> serve) {
    ServingContext* ctx = ctx_;
    ctx_->node().ReadBarrier([ctx, p, serve = std::move(serve)](Status s) {
      if (!s.ok()) return p.Fail(s);
      ctx->Run(serve);
    });
  }

  ServingContext* const ctx_;
  Lessor* const lessor_;
  LeaseIdGenerator* const ids_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewLeaseService(ServingContext* context, Lessor* lessor,
                                               LeaseIdGenerator* ids) {
  return std::make_unique<LeaseService>(context, lessor, ids);
}

}  // namespace synod::server
