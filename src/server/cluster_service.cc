#include "server/cluster_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "server/command.pb.h"
#include "server/config.h"
#include "server/member_checks.h"
#include "server/member_id.h"
#include "server/member_registry.h"
#include "server/unary_call.h"

namespace synod::server {
namespace {

using api::EtcdError;

// Metadata on a request a follower passed on to the leader: never passed on again.
constexpr const char* kForwardedKey = "synod-forwarded";
constexpr std::chrono::seconds kForwardTimeout{15};

class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  ClusterService(ServingContext* ctx, MemberRegistry* members, ClusterServiceOptions options)
      : ctx_(ctx), members_(members), opts_(std::move(options)) {}

  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* call,
                                       const etcdserverpb::MemberListRequest* req,
                                       etcdserverpb::MemberListResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    auto answer = [this, p = *p, resp] {
      FillMembers(resp->mutable_members());
      FillHeader(*ctx_, Revision(), resp->mutable_header());
      p.Ok();
    };
    if (!req->linearizable()) {
      answer();  // the registry's lock only: nothing to wait for
      return p->reactor;
    }
    ctx_->node().ReadBarrier([this, p = *p, answer](Status s) {
      if (!s.ok()) return p.Fail(s);
      ctx_->Run(answer);
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* call,
                                      const etcdserverpb::MemberAddRequest* req,
                                      etcdserverpb::MemberAddResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (Forward(call, *p, [req, resp](Stub* s, grpc::ClientContext* c, Done done) {
          s->async()->MemberAdd(c, req, resp, std::move(done));
        })) {
      return p->reactor;
    }
    const std::vector<std::string> urls(req->peerurls().begin(), req->peerurls().end());
    if (!UrlsValid(urls)) return Fail(*p, EtcdError::kMemberBadUrls);
    const uint64_t id = MemberIdForPeerUrls(urls, opts_.cluster_token);
    const std::vector<MemberRecord> list = members_->List();
    for (const MemberRecord& m : list) {
      if (m.id == id) return Fail(*p, EtcdError::kMemberExist);
      for (const std::string& u : m.peer_urls) {
        if (std::find(urls.begin(), urls.end(), u) != urls.end()) {
          return Fail(*p, EtcdError::kPeerUrlExist);
        }
      }
    }
    // etcd never reuses a removed member's id; its URLs name the same id here.
    if (members_->WasRemoved(id)) return Fail(*p, EtcdError::kMemberExist);
    const node::NodeInfo info = ctx_->node().Info();
    if (info.role != raft::Role::kLeader) return Fail(*p, EtcdError::kNotLeader);
    if (req->islearner()) {
      if (info.conf_state.learners.size() >= kLearnersMax) {
        return Fail(*p, EtcdError::kTooManyLearners);
      }
    } else if (!EnoughStartedToAddVoter(info)) {
      return Fail(*p, EtcdError::kMemberNotEnoughStarted);
    }
    MemberRecord added;
    added.id = id;
    added.peer_urls = urls;
    added.learner = req->islearner();
    const raft::ConfChangeType type =
        req->islearner() ? raft::ConfChangeType::kAddLearner : raft::ConfChangeType::kAddVoter;
    Change(*p, type, added, [this, resp, added](const PendingCall& done) {
      ToProto(members_->Find(added.id).value_or(added), resp->mutable_member());
      FillMembers(resp->mutable_members());
      FillHeader(*ctx_, Revision(), resp->mutable_header());
      done.Ok();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* call,
                                         const etcdserverpb::MemberRemoveRequest* req,
                                         etcdserverpb::MemberRemoveResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (Forward(call, *p, [req, resp](Stub* s, grpc::ClientContext* c, Done done) {
          s->async()->MemberRemove(c, req, resp, std::move(done));
        })) {
      return p->reactor;
    }
    const std::optional<MemberRecord> m = members_->Find(req->id());
    if (!m) return Fail(*p, EtcdError::kMemberNotFound);
    const node::NodeInfo info = ctx_->node().Info();
    if (info.role != raft::Role::kLeader) return Fail(*p, EtcdError::kNotLeader);
    if (!EnoughStartedToRemoveVoter(info, m->id)) {
      return Fail(*p, EtcdError::kMemberNotEnoughStarted);
    }
    Change(*p, raft::ConfChangeType::kRemoveNode, *m, [this, resp](const PendingCall& done) {
      FillMembers(resp->mutable_members());
      FillHeader(*ctx_, Revision(), resp->mutable_header());
      done.Ok();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* call,
                                          const etcdserverpb::MemberPromoteRequest* req,
                                          etcdserverpb::MemberPromoteResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    if (Forward(call, *p, [req, resp](Stub* s, grpc::ClientContext* c, Done done) {
          s->async()->MemberPromote(c, req, resp, std::move(done));
        })) {
      return p->reactor;
    }
    const std::optional<MemberRecord> m = members_->Find(req->id());
    if (!m) return Fail(*p, EtcdError::kMemberNotFound);
    if (!m->learner) return Fail(*p, EtcdError::kMemberNotLearner);
    const node::NodeInfo info = ctx_->node().Info();
    if (info.role != raft::Role::kLeader) return Fail(*p, EtcdError::kNotLeader);
    if (!LearnerReady(info, m->id)) return Fail(*p, EtcdError::kLearnerNotReady);
    MemberRecord promoted = *m;
    promoted.learner = false;
    Change(*p, raft::ConfChangeType::kAddVoter, promoted, [this, resp](const PendingCall& done) {
      FillMembers(resp->mutable_members());
      FillHeader(*ctx_, Revision(), resp->mutable_header());
      done.Ok();
    });
    return p->reactor;
  }

  grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* call,
                                         const etcdserverpb::MemberUpdateRequest* req,
                                         etcdserverpb::MemberUpdateResponse* resp) override {
    auto p = BeginUnary(ctx_, call);
    if (!p) return call->DefaultReactor();
    const std::vector<std::string> urls(req->peerurls().begin(), req->peerurls().end());
    if (!UrlsValid(urls)) return Fail(*p, EtcdError::kMemberBadUrls);
    if (!members_->Find(req->id())) return Fail(*p, EtcdError::kMemberNotFound);
    for (const MemberRecord& m : members_->List()) {
      if (m.id == req->id()) continue;
      for (const std::string& u : m.peer_urls) {
        if (std::find(urls.begin(), urls.end(), u) != urls.end()) {
          return Fail(*p, EtcdError::kPeerUrlExist);
        }
      }
    }
    serverpb::Command c;
    *c.mutable_member_update() = *req;
    ctx_->node().Propose(c.SerializeAsString(), [this, p = *p, resp](Result<std::any> r) {
      if (!r.ok()) return p.Fail(r.status());
      ctx_->Run([this, p, resp] {
        FillMembers(resp->mutable_members());
        FillHeader(*ctx_, Revision(), resp->mutable_header());
        p.Ok();
      });
    });
    return p->reactor;
  }

 private:
  using Answer = std::function<void(const PendingCall&)>;
  using Stub = etcdserverpb::Cluster::Stub;
  using Done = std::function<void(grpc::Status)>;
  using Invoke = std::function<void(Stub*, grpc::ClientContext*, Done)>;

  // Add, remove and promote are proposed by the leader: a follower passes the request on to
  // the leader's client URL, as etcd does, and relays the answer. True when it did (or failed
  // to: no leader, or its client URL not known yet). A passed-on request is answered by the
  // member it reached even if that one no longer leads.
  bool Forward(grpc::CallbackServerContext* call, const PendingCall& p, const Invoke& invoke) {
    const node::NodeInfo info = ctx_->node().Info();
    if (info.role == raft::Role::kLeader) return false;
    if (call->client_metadata().count(kForwardedKey) > 0) return false;
    if (info.leader == raft::kNoNode) {
      p.Fail(EtcdError::kNoLeader);
      return true;
    }
    std::shared_ptr<Stub> stub = LeaderStub(info.leader.value);
    if (stub == nullptr) {
      p.Fail(EtcdError::kNotLeader);
      return true;
    }
    auto client = std::make_shared<grpc::ClientContext>();
    client->set_deadline(std::chrono::system_clock::now() + kForwardTimeout);
    client->AddMetadata(kForwardedKey, "1");
    invoke(stub.get(), client.get(), [p, stub, client](grpc::Status s) {
      if (s.ok()) return p.Ok();
      p.Fail(api::WireStatus{static_cast<api::GrpcCode>(s.error_code()), s.error_message()});
    });
    return true;
  }

  // A channel to the leader's first published client URL, kept for the next request.
  std::shared_ptr<Stub> LeaderStub(uint64_t leader) {
    const std::optional<MemberRecord> m = members_->Find(leader);
    if (!m || m->client_urls.empty()) return nullptr;
    auto host_port = HostPortOfUrl(m->client_urls.front());
    if (!host_port.ok()) return nullptr;
    std::lock_guard<std::mutex> lock(stubs_mu_);
    auto& stub = stubs_[host_port.value()];
    if (stub == nullptr) {
      stub = etcdserverpb::Cluster::NewStub(
          grpc::CreateChannel(host_port.value(), grpc::InsecureChannelCredentials()));
    }
    return stub;
  }

  grpc::ServerUnaryReactor* Fail(const PendingCall& p, EtcdError e) {
    p.Fail(e);
    return p.reactor;
  }

  // Proposes the membership change; `answer` runs on the executor once it is applied here.
  void Change(const PendingCall& p, raft::ConfChangeType type, const MemberRecord& m,
              Answer answer) {
    serverpb::MemberChange change;
    ToProto(m, change.mutable_member());
    raft::ConfChange cc;
    cc.changes.push_back({type, raft::NodeId(m.id)});
    cc.context = change.SerializeAsString();
    ctx_->node().ProposeConfChange(
        std::move(cc), [this, p, answer = std::move(answer)](Result<raft::ConfState> r) {
          if (!r.ok()) {
            // Raft refuses a change while another is in flight, or one that does not fit the
            // configuration any more (it changed since the checks).
            if (r.status().code() == ErrorCode::kUnavailable ||
                r.status().code() == ErrorCode::kInvalidArgument) {
              return p.Fail(EtcdError::kUnhealthy);
            }
            if (r.status().code() == ErrorCode::kNotLeader) return p.Fail(EtcdError::kNotLeader);
            return p.Fail(r.status());
          }
          ctx_->Run([p, answer] { answer(p); });
        });
  }

  static bool UrlsValid(const std::vector<std::string>& urls) {
    if (urls.empty()) return false;
    return std::all_of(urls.begin(), urls.end(),
                       [](const std::string& u) { return HostPortOfUrl(u).ok(); });
  }

  int64_t Revision() const {
    return ctx_->kv().Read([](const mvcc::Store& s) { return s.revision(); });
  }

  void ToProto(const MemberRecord& r, etcdserverpb::Member* out) const {
    out->set_id(r.id);
    out->set_name(r.name);
    for (const std::string& u : r.peer_urls) out->add_peerurls(u);
    // This member knows its own client URLs before it has published them.
    const bool self = r.id == ctx_->member_id() && r.client_urls.empty();
    for (const std::string& u : self ? opts_.self_client_urls : r.client_urls) {
      out->add_clienturls(u);
    }
    out->set_islearner(r.learner);
  }

  void FillMembers(google::protobuf::RepeatedPtrField<etcdserverpb::Member>* out) const {
    for (const MemberRecord& m : members_->List()) ToProto(m, out->Add());
  }

  ServingContext* const ctx_;
  MemberRegistry* const members_;
  const ClusterServiceOptions opts_;
  std::mutex stubs_mu_;
  std::map<std::string, std::shared_ptr<Stub>> stubs_;  // by leader host:port
};

}  // namespace

std::unique_ptr<grpc::Service> NewClusterService(ServingContext* context, MemberRegistry* members,
                                                 ClusterServiceOptions options) {
  return std::make_unique<ClusterService>(context, members, std::move(options));
}

}  // namespace synod::server
