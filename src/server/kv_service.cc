#include "server/kv_service.h"

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

#include "api/grpc_status.h"
#include "base/assert.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "mvcc/request_check.h"
#include "server/command.pb.h"
#include "server/convert.h"
#include "server/errors.h"
#include "server/fence.h"
#include "server/maintenance_service.h"
#include "server/serving_context.h"
#include "server/unary_call.h"

namespace synod::server {
namespace {

using api::EtcdError;

// A txn is served without a read barrier only if every range in it asks for that (etcd's rule).
bool TxnSerializable(const etcdserverpb::TxnRequest& t) {
  for (const auto* ops : {&t.success(), &t.failure()}) {
    for (const etcdserverpb::RequestOp& op : *ops) {
      if (op.has_request_range() && !op.request_range().serializable()) return false;
      if (op.has_request_txn() && !TxnSerializable(op.request_txn())) return false;
    }
  }
  return true;
}

// Copies the client's `synod-fence` metadata (fence.h) into the command, checked on apply.
Status AddFences(const grpc::CallbackServerContext* call, serverpb::Command* command) {
  const auto [first, last] = call->client_metadata().equal_range(kFenceMetadataKey);
  for (auto it = first; it != last; ++it) {
    Status s = AddFence(std::string_view(it->second.data(), it->second.size()), command);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

class KvService final : public etcdserverpb::KV::CallbackService {
 public:
  explicit KvService(ServingContext* ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* call,
                                  const etcdserverpb::RangeRequest* req,
                                  etcdserverpb::RangeResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    ServingContext* ctx = ctx_;
    auto serve = [ctx, p = *p, req, resp] {
      auto r = ctx->kv().Read([&](const mvcc::Store& s) { return s.Range(FromProto(*req)); });
      if (!r.ok()) return p.Fail(ToWireStatus(r.error()));
      ToProto(r.value().result, resp);
      FillHeader(*ctx, r.value().revision, resp->mutable_header());
      p.Ok();
    };
    ReadThen(*p, req->serializable(), std::move(serve));
    return p->reactor;
  }

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* call,
                                const etcdserverpb::PutRequest* req,
                                etcdserverpb::PutResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (auto e = CheckPutShape(*req)) {
      p->Fail(*e);
    } else if (!CheckSize(*p, *req) || !CheckQuota(*p, *req)) {
      // answered
    } else {
      serverpb::Command c;
      *c.mutable_put() = *req;
      if (Status s = AddFences(call, &c); !s.ok()) {
        p->Fail(s);
        return p->reactor;
      }
      ProposeThen(*p, c, [resp](const mvcc::ApplyResult& a) {
        ToProto(std::get<mvcc::PutResult>(a.result), resp);
        return resp->mutable_header();
      });
    }
    return p->reactor;
  }

  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* call,
                                        const etcdserverpb::DeleteRangeRequest* req,
                                        etcdserverpb::DeleteRangeResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (req->key().empty()) {
      p->Fail(EtcdError::kEmptyKey);
    } else if (CheckSize(*p, *req)) {
      serverpb::Command c;
      *c.mutable_delete_range() = *req;
      ProposeThen(*p, c, [resp](const mvcc::ApplyResult& a) {
        ToProto(std::get<mvcc::DeleteRangeResult>(a.result), resp);
        return resp->mutable_header();
      });
    }
    return p->reactor;
  }

  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* call,
                                const etcdserverpb::TxnRequest* req,
                                etcdserverpb::TxnResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (!CheckSize(*p, *req)) return p->reactor;
    if (auto e = mvcc::CheckTxn(FromProto(*req), ctx_->limits().txn_ops_max)) {
      p->Fail(ToWireStatus(mvcc::Error(*e)));
      return p->reactor;
    }
    if (IsReadOnly(*req)) {
      ServingContext* ctx = ctx_;
      auto serve = [ctx, p = *p, req, resp] {
        auto r = ctx->kv().Read([&](const mvcc::Store& s) { return s.ReadTxn(FromProto(*req)); });
        if (!r.ok()) return p.Fail(ToWireStatus(r.error()));
        ToProto(r.value().result, r.value().revision, resp);
        FillHeader(*ctx, r.value().revision, resp->mutable_header());
        p.Ok();
      };
      ReadThen(*p, TxnSerializable(*req), std::move(serve));
      return p->reactor;
    }
    if (!CheckQuota(*p, *req)) return p->reactor;
    serverpb::Command c;
    *c.mutable_txn() = *req;
    if (Status s = AddFences(call, &c); !s.ok()) {
      p->Fail(s);
      return p->reactor;
    }
    ProposeThen(*p, c, [resp](const mvcc::ApplyResult& a) {
      ToProto(std::get<mvcc::TxnResult>(a.result), a.revision, resp);
      return resp->mutable_header();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* call,
                                    const etcdserverpb::CompactionRequest* req,
                                    etcdserverpb::CompactionResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    serverpb::Command c;
    *c.mutable_compaction() = *req;
    ProposeThen(*p, c, [resp](const mvcc::ApplyResult&) { return resp->mutable_header(); });
    return p->reactor;
  }

 private:
  // The same checks the store makes when applying, made before proposing so that a malformed
  // put never takes a place in the log.
  static std::optional<EtcdError> CheckPutShape(const etcdserverpb::PutRequest& r) {
    if (r.key().empty()) return EtcdError::kEmptyKey;
    if (r.ignore_value() && !r.value().empty()) return EtcdError::kValueProvided;
    if (r.ignore_lease() && r.lease() != 0) return EtcdError::kLeaseProvided;
    return std::nullopt;
  }

  bool CheckSize(const PendingCall& p, const google::protobuf::Message& m) const {
    if (static_cast<int64_t>(m.ByteSizeLong()) <= ctx_->limits().request_bytes_max) return true;
    p.Fail(EtcdError::kRequestTooLarge);
    return false;
  }

  // Over the quota, this member raises NOSPACE through the log (maintenance_service.h); while
  // the alarm is active, every member refuses writes that put, whatever its own size.
  bool CheckQuota(const PendingCall& p, const google::protobuf::Message& m) const {
    const bool raised = ctx_->kv().NoSpace();
    const int64_t quota = ctx_->limits().backend_bytes_quota;
    if (!raised && ctx_->CachedDiskBytes(static_cast<int64_t>(m.ByteSizeLong())) <= quota) {
      return true;
    }
    // The cached size may predate a defragmentation: measure before raising the alarm again.
    if (!raised && ctx_->kv().DiskBytes() <= quota) return true;
    if (!raised) RaiseNoSpaceAlarm(ctx_);
    p.Fail(EtcdError::kNoSpace);
    return false;
  }

  // Serves a read: at once for a serializable one, after a read barrier for the others.
  void ReadThen(const PendingCall& p, bool serializable, std::function<void()> serve) {
    if (serializable) {
      ctx_->Run(serve);
      return;
    }
    ServingContext* ctx = ctx_;
    ctx_->node().ReadBarrier([ctx, p, serve = std::move(serve)](Status s) {
      if (!s.ok()) return p.Fail(s);
      ctx->Run(serve);
    });
  }

  // Proposes the command; once it is applied, `fill` writes the result into the response and
  // returns its header, which gets the revision after the apply.
  template <typename Fill>
  void ProposeThen(const PendingCall& p, const serverpb::Command& command, Fill fill) {
    ServingContext* ctx = ctx_;
    ctx_->node().Propose(command.SerializeAsString(), [ctx, p, fill](Result<std::any> r) {
      if (!r.ok()) return p.Fail(r.status());
      ctx->Run([ctx, p, fill, result = std::move(r.value())] {
        const auto* out = std::any_cast<ApplyOutcome>(&result);
        SYNOD_ASSERT(out != nullptr, "KvMachine::Apply returns an ApplyOutcome");
        if (!out->ok()) return p.Fail(ToWireStatus(out->error()));
        etcdserverpb::ResponseHeader* header = fill(out->value());
        FillHeader(*ctx, out->value().revision, header);
        p.Ok();
      });
    });
  }

  ServingContext* const ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewKvService(ServingContext* context) {
  return std::make_unique<KvService>(context);
}

}  // namespace synod::server
