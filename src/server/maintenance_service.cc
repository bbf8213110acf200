#include "server/maintenance_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "api/grpc_status.h"
#include "base/assert.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "server/backup_stream.h"
#include "server/command.pb.h"
#include "server/log.h"
#include "server/serving_context.h"
#include "server/unary_call.h"
#include "server/version.h"

namespace synod::server {
namespace {

using api::EtcdError;

// How long MoveLeader waits for the target to take over: a transfer to a caught-up member
// takes one round trip and an election; etcd bounds it by its request timeout as well.
constexpr auto kMoveLeaderWait = std::chrono::seconds(5);
constexpr auto kMoveLeaderPoll = std::chrono::milliseconds(10);

int64_t CurrentRevision(const ServingContext& ctx) {
  return ctx.kv().Read([](const mvcc::Store& s) { return s.revision(); });
}

class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  explicit MaintenanceService(ServingContext* ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* call,
                                   const etcdserverpb::StatusRequest* /*req*/,
                                   etcdserverpb::StatusResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    ServingContext* ctx = ctx_;
    // Sizing the store lists its directory: the executor does it, not the gRPC thread.
    ctx_->Run([ctx, p = *p, resp] {
      const node::NodeInfo info = ctx->node().Info();
      const int64_t db_bytes = ctx->kv().DiskBytes();
      FillHeader(*ctx, CurrentRevision(*ctx), resp->mutable_header());
      resp->set_version(kVersion);
      resp->set_dbsize(db_bytes);
      resp->set_dbsizeinuse(db_bytes);
      resp->set_dbsizequota(ctx->limits().backend_bytes_quota);
      resp->set_leader(info.leader.value);
      resp->set_raftindex(info.commit.value);
      resp->set_raftterm(info.term.value);
      resp->set_raftappliedindex(info.applied.value);
      resp->set_storageversion("3.4.0");
      // As etcd lists them: AlarmMember's text form.
      for (const mvcc::Alarm& a : ctx->kv().Alarms()) {
        resp->add_errors("memberID:" + std::to_string(a.member_id) +
                         " alarm:" + (a.type == kAlarmNoSpace ? "NOSPACE" : "CORRUPT") + " ");
      }
      p.Ok();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* call,
                                 const etcdserverpb::HashRequest* /*req*/,
                                 etcdserverpb::HashResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    ServingContext* ctx = ctx_;
    ctx_->Run([ctx, p = *p, resp] {
      const int64_t revision = CurrentRevision(*ctx);
      auto h = ctx->kv().Read([](const mvcc::Store& s) { return s.Hash(); });
      if (!h.ok()) return p.Fail(ToWireStatus(h.error()));
      resp->set_hash(h.value());
      FillHeader(*ctx, revision, resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  // As etcd: the local store, without a read barrier; equal on every member that applied the
  // same revision (the hash covers the MVCC key space up to it, under the compaction).
  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* call,
                                   const etcdserverpb::HashKVRequest* req,
                                   etcdserverpb::HashKVResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    ServingContext* ctx = ctx_;
    ctx_->Run([ctx, p = *p, req, resp] {
      const int64_t current = CurrentRevision(*ctx);
      auto h = ctx->kv().Read([&](const mvcc::Store& s) { return s.HashKV(req->revision()); });
      if (!h.ok()) return p.Fail(ToWireStatus(h.error()));
      resp->set_hash(h.value().hash);
      resp->set_compact_revision(h.value().compact_revision);
      resp->set_hash_revision(h.value().revision);
      FillHeader(*ctx, current, resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  // Runs on a worker (one of the executor's threads is busy meanwhile); reads and applies go
  // on (mvcc::Store::Defragment). Local to this member, as etcd's.
  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* call,
                                       const etcdserverpb::DefragmentRequest* /*req*/,
                                       etcdserverpb::DefragmentResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    ServingContext* ctx = ctx_;
    ctx_->Run([ctx, p = *p, resp] {
      const int64_t before = ctx->kv().DiskBytes();
      const auto start = std::chrono::steady_clock::now();
      const synod::Status s = ctx->kv().Defragment();
      if (!s.ok()) return p.Fail(s);
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      Log(LogLevel::kInfo, "maintenance",
          "defragmented in " + std::to_string(ms.count()) + " ms: " + std::to_string(before) +
              " -> " + std::to_string(ctx->kv().DiskBytes()) + " bytes");
      FillHeader(*ctx, CurrentRevision(*ctx), resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* call,
                                  const etcdserverpb::AlarmRequest* req,
                                  etcdserverpb::AlarmResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    ServingContext* ctx = ctx_;
    if (req->action() == etcdserverpb::AlarmRequest::GET) {
      // Linearizable, as etcd's (which sends a GET through the log).
      ctx_->node().ReadBarrier([ctx, p = *p, req, resp](synod::Status s) {
        if (!s.ok()) return p.Fail(s);
        ctx->Run([ctx, p, req, resp] {
          for (const mvcc::Alarm& a : ctx->kv().Alarms()) {
            if (req->alarm() != etcdserverpb::NONE && a.type != req->alarm()) continue;
            etcdserverpb::AlarmMember* m = resp->add_alarms();
            m->set_memberid(a.member_id);
            m->set_alarm(static_cast<etcdserverpb::AlarmType>(a.type));
          }
          FillHeader(*ctx, CurrentRevision(*ctx), resp->mutable_header());
          p.Ok();
        });
      });
      return p->reactor;
    }
    serverpb::Command c;
    *c.mutable_alarm() = *req;
    ctx_->node().Propose(c.SerializeAsString(), [ctx, p = *p, resp](Result<std::any> r) {
      if (!r.ok()) return p.Fail(r.status());
      ctx->Run([ctx, p, resp, result = std::move(r.value())] {
        const auto* out = std::any_cast<AlarmOutcome>(&result);
        SYNOD_ASSERT(out != nullptr, "KvMachine answers an alarm command with an AlarmOutcome");
        for (const mvcc::Alarm& a : out->changed) {
          etcdserverpb::AlarmMember* m = resp->add_alarms();
          m->set_memberid(a.member_id);
          m->set_alarm(static_cast<etcdserverpb::AlarmType>(a.type));
        }
        FillHeader(*ctx, out->revision, resp->mutable_header());
        p.Ok();
      });
    });
    return p->reactor;
  }

  // Only the leader hands leadership over (etcd answers "not leader" elsewhere). The answer
  // waits until the target leads, so a client that moves on at once finds the new leader.
  grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* call,
                                       const etcdserverpb::MoveLeaderRequest* req,
                                       etcdserverpb::MoveLeaderResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    const node::NodeInfo info = ctx_->node().Info();
    if (info.leader.value != ctx_->member_id()) {
      p->Fail(EtcdError::kNotLeader);
      return p->reactor;
    }
    const uint64_t target = req->targetid();
    // As etcd: only a voter of the applied configuration can take over. Anything else (an
    // unknown id, a learner, a removed member) would never become leader, and waiting for it
    // would only end in a timeout.
    const std::vector<raft::NodeId>& voters = info.conf_state.voters;
    if (std::find(voters.begin(), voters.end(), raft::NodeId(target)) == voters.end()) {
      p->Fail(EtcdError::kBadLeaderTransferee);
      return p->reactor;
    }
    ServingContext* ctx = ctx_;
    if (target != ctx_->member_id()) ctx_->node().TransferLeadership(raft::NodeId(target));
    ctx_->Run([ctx, p = *p, resp, target] {
      const auto deadline = std::chrono::steady_clock::now() + kMoveLeaderWait;
      while (ctx->node().Info().leader.value != target) {
        if (ctx->stopping()) return p.Fail(EtcdError::kStopped);
        if (std::chrono::steady_clock::now() >= deadline) return p.Fail(EtcdError::kTimeout);
        std::this_thread::sleep_for(kMoveLeaderPoll);
      }
      FillHeader(*ctx, CurrentRevision(*ctx), resp->mutable_header());
      p.Ok();
    });
    return p->reactor;
  }

  grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* Snapshot(
      grpc::CallbackServerContext* call, const etcdserverpb::SnapshotRequest* /*req*/) override {
    return NewBackupStream(ctx_, call);
  }

 private:
  ServingContext* const ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewMaintenanceService(ServingContext* context) {
  return std::make_unique<MaintenanceService>(context);
}

void RaiseNoSpaceAlarm(ServingContext* context) {
  serverpb::Command c;
  etcdserverpb::AlarmRequest* a = c.mutable_alarm();
  a->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
  a->set_memberid(context->member_id());
  a->set_alarm(etcdserverpb::NOSPACE);
  // Nobody waits for the answer; a write that arrives before it applies raises it again,
  // which changes nothing (KvMachine::ApplyAlarm).
  context->node().Propose(c.SerializeAsString(), [](Result<std::any>) {});
}

}  // namespace synod::server
