#include "lease_run.h"

#include <grpcpp/grpcpp.h>

#include <mutex>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "runner.h"

namespace synod::bench {
namespace {

using etcdserverpb::LeaseKeepAliveRequest;
using etcdserverpb::LeaseKeepAliveResponse;

class LeaseClient;

// A client's LeaseKeepAlive stream, kept for many cycles as etcd's clients keep theirs. At
// most one write is outstanding (gRPC's rule); a keep-alive asked for while the previous
// write has not completed waits for it.
class KeepAliveStream final
    : public grpc::ClientBidiReactor<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
 public:
  explicit KeepAliveStream(LeaseClient* owner) : owner_(owner) {}

  void Start(etcdserverpb::Lease::Stub* stub) {
    stub->async()->LeaseKeepAlive(&ctx_, this);
    StartRead(&resp_);
    StartCall();
  }
  void Send(int64_t id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writing_) {
        pending_id_ = id;
        return;
      }
      writing_ = true;
      req_.set_id(id);
    }
    StartWrite(&req_);
  }
  void Close() { ctx_.TryCancel(); }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!ok || pending_id_ == 0) {
        writing_ = false;
        return;
      }
      req_.set_id(pending_id_);
      pending_id_ = 0;
    }
    StartWrite(&req_);
  }
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  LeaseClient* owner_;
  grpc::ClientContext ctx_;
  std::mutex mu_;  // guards the three below
  bool writing_ = false;
  int64_t pending_id_ = 0;  // etcd never grants lease id 0
  LeaseKeepAliveRequest req_;
  LeaseKeepAliveResponse resp_;
};

// One cycle at a time: grant, keep-alive, revoke; the revoke's completion starts the next. A
// failed step ends the cycle as one error (the first failure's code); the revoke still runs
// after a failed keep-alive so no lease is left behind.
class LeaseClient final : public Issuer {
 public:
  LeaseClient(Runner* runner, etcdserverpb::Lease::Stub* stub, int shard)
      : runner_(runner), stub_(stub), shard_(shard) {
    grant_.set_ttl(runner->options().lease_ttl_s);
  }

  void Issue() override {
    if (!EnterIssue(runner_, this)) return;
    if (!runner_->ClaimTicket()) {
      LeaveIssue();
      Finish();
      return;
    }
    failure_ = grpc::Status::OK;
    cycle_start_ = Clock::now();
    step_start_ = cycle_start_;
    NewContext();
    stub_->async()->LeaseGrant(ctx_.get(), &grant_, &grant_resp_,
                               [this](grpc::Status s) { OnGranted(s); });
    LeaveIssue();
  }

  void OnKeepAlive(const LeaseKeepAliveResponse& resp) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!awaiting_keepalive_ || resp.id() != grant_resp_.id()) return;  // a stray answer
      awaiting_keepalive_ = false;
    }
    StepDone(LeaseStep::kKeepAlive);
    // etcd answers a keep-alive of an unknown lease with TTL 0.
    if (resp.ttl() <= 0) failure_ = grpc::Status(grpc::StatusCode::NOT_FOUND, "keep-alive: TTL 0");
    Revoke();
  }

  void OnStreamDone(KeepAliveStream* stream, const grpc::Status& status) {
    bool was_awaiting = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      SYNOD_ASSERT(stream == stream_, "a retired keep-alive stream ended twice");
      stream_ = nullptr;
      was_awaiting = awaiting_keepalive_;
      awaiting_keepalive_ = false;
      if (finishing_) {
        FinishStep();
        return;
      }
    }
    if (was_awaiting) {
      failure_ = status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                            "keep-alive stream ended before the answer")
                             : status;
      Revoke();
    }
  }

 private:
  void NewContext() {
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(
                           static_cast<int64_t>(runner_->options().timeout_s * 1e6)));
  }
  void StepDone(LeaseStep step) {
    const auto now = Clock::now();
    runner_->RecordStep(shard_, step,
                        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                  now - step_start_)
                                                  .count()));
    step_start_ = now;
  }

  void OnGranted(const grpc::Status& status) {
    if (!status.ok()) {
      runner_->RecordError(static_cast<int>(status.error_code()), status.error_message());
      Issue();
      return;
    }
    StepDone(LeaseStep::kGrant);
    KeepAliveStream* stream = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stream_ == nullptr) {
        streams_.push_back(std::make_unique<KeepAliveStream>(this));
        stream_ = streams_.back().get();
        stream_->Start(stub_);
      }
      stream = stream_;
      awaiting_keepalive_ = true;
    }
    stream->Send(grant_resp_.id());
  }

  void Revoke() {
    revoke_.set_id(grant_resp_.id());
    NewContext();
    stub_->async()->LeaseRevoke(ctx_.get(), &revoke_, &revoke_resp_,
                                [this](grpc::Status s) { OnRevoked(s); });
  }

  void OnRevoked(const grpc::Status& status) {
    if (status.ok()) StepDone(LeaseStep::kRevoke);
    if (failure_.ok() && !status.ok()) failure_ = status;
    if (failure_.ok()) {
      runner_->RecordOk(shard_, static_cast<uint64_t>(
                                    std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        Clock::now() - cycle_start_)
                                        .count()));
    } else {
      runner_->RecordError(static_cast<int>(failure_.error_code()), failure_.error_message());
    }
    Issue();
  }

  // No more cycles: closes the stream. The client counts as finished once both this function
  // and the stream's end are past, since the run frees the client right after.
  void Finish() {
    KeepAliveStream* open = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      finishing_ = true;
      open = stream_;
      finish_waits_ = open == nullptr ? 1 : 2;
    }
    if (open != nullptr) open->Close();
    std::lock_guard<std::mutex> lock(mu_);
    FinishStep();
  }
  // REQUIRES: mu_ held.
  void FinishStep() {
    SYNOD_ASSERT(finish_waits_ > 0, "finished twice");
    if (--finish_waits_ == 0) runner_->ClientFinished();
  }

  Runner* runner_;
  etcdserverpb::Lease::Stub* stub_;
  int shard_;
  Clock::time_point cycle_start_;
  Clock::time_point step_start_;
  grpc::Status failure_;  // the cycle's first failure
  std::unique_ptr<grpc::ClientContext> ctx_;  // of the grant or revoke in flight
  etcdserverpb::LeaseGrantRequest grant_;
  etcdserverpb::LeaseGrantResponse grant_resp_;
  etcdserverpb::LeaseRevokeRequest revoke_;
  etcdserverpb::LeaseRevokeResponse revoke_resp_;
  std::mutex mu_;  // guards the members below
  // Every stream this client opened (a stream that ended is replaced, not reused); kept until
  // the run ends because gRPC may still be returning from its last callback.
  std::vector<std::unique_ptr<KeepAliveStream>> streams_;
  KeepAliveStream* stream_ = nullptr;  // open, or null
  bool awaiting_keepalive_ = false;
  bool finishing_ = false;
  int finish_waits_ = 0;
};

void KeepAliveStream::OnReadDone(bool ok) {
  if (!ok) return;  // OnDone follows
  const LeaseKeepAliveResponse resp = resp_;
  StartRead(&resp_);
  owner_->OnKeepAlive(resp);
}

void KeepAliveStream::OnDone(const grpc::Status& status) {
  owner_->OnStreamDone(this, status);
}

}  // namespace

Result<RunResult> RunLease(const BenchOptions& options, const std::vector<std::string>& targets,
                           const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                           const std::function<void(const Progress&)>& progress) {
  SYNOD_ASSERT(!channels.empty(), "no channels");
  std::vector<std::unique_ptr<etcdserverpb::Lease::Stub>> stubs;
  for (const auto& channel : channels) stubs.push_back(etcdserverpb::Lease::NewStub(channel));
  Runner runner(options, options.clients);
  std::vector<std::unique_ptr<LeaseClient>> clients;
  for (uint32_t i = 0; i < options.clients; ++i) {
    clients.push_back(std::make_unique<LeaseClient>(&runner, stubs[i % stubs.size()].get(),
                                                    static_cast<int>(i % Runner::kShards)));
  }
  const auto start = Clock::now();
  runner.set_deadline(start +
                      std::chrono::microseconds(static_cast<int64_t>(options.duration_s * 1e6)));
  for (auto& c : clients) c->Issue();
  runner.Wait(start, progress);
  RunResult result;
  result.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  runner.Collect(&result);
  result.targets = targets;
  return result;
}

}  // namespace synod::bench
