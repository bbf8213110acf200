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
// write has not completed waits for it. A hold keeps OnDone from running until the read loop
// has failed, and writes start under the same lock that marks the stream dead, so no write
// ever starts after OnDone. The lock is recursive because gRPC may run a reaction inline.
class KeepAliveStream final
    : public grpc::ClientBidiReactor<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
 public:
  explicit KeepAliveStream(LeaseClient* owner) : owner_(owner) {}

  // Opens the stream with the keep-alive of lease `first_id` already queued.
  void Start(etcdserverpb::Lease::Stub* stub, int64_t first_id) {
    stub->async()->LeaseKeepAlive(&ctx_, this);
    AddHold();
    writing_ = true;
    req_.set_id(first_id);
    StartWrite(&req_);
    StartRead(&resp_);
    StartCall();
  }
  // False when the stream has ended (its OnDone then reports the unanswered keep-alive).
  bool Send(int64_t id) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (dead_) return false;
    if (writing_) {
      pending_id_ = id;
      return true;
    }
    writing_ = true;
    req_.set_id(id);
    StartWrite(&req_);
    return true;
  }
  // Safe at any time, even after the end: the context outlives the call.
  void Close() { ctx_.TryCancel(); }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!ok || dead_ || pending_id_ == 0) {
      writing_ = false;
      return;
    }
    req_.set_id(pending_id_);
    pending_id_ = 0;
    StartWrite(&req_);
  }
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  LeaseClient* owner_;
  grpc::ClientContext ctx_;
  std::recursive_mutex mu_;  // guards the members below
  bool writing_ = false;
  bool dead_ = false;       // the read loop failed: no new write may start
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

  // Called from the waiting thread: a keep-alive unanswered for --timeout ends its stream
  // (then the cycle fails with DEADLINE_EXCEEDED), since a stream has no deadline of its own.
  void CheckStalled(Clock::time_point now) {
    KeepAliveStream* stalled = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!awaiting_keepalive_ || stalled_ || stream_ == nullptr) return;
      const auto timeout =
          std::chrono::microseconds(static_cast<int64_t>(runner_->options().timeout_s * 1e6));
      if (now - keepalive_sent_ < timeout) return;
      stalled_ = true;
      stalled = stream_;
    }
    stalled->Close();  // streams live as long as the client, so this one still exists
  }

  void OnStreamDone(KeepAliveStream* stream, const grpc::Status& status) {
    bool was_awaiting = false;
    bool stalled = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      SYNOD_ASSERT(stream == stream_, "a retired keep-alive stream ended twice");
      stream_ = nullptr;
      was_awaiting = awaiting_keepalive_;
      awaiting_keepalive_ = false;
      stalled = stalled_;
      stalled_ = false;
      if (finishing_) {
        FinishStep();
        return;
      }
    }
    if (was_awaiting) {
      if (stalled) {
        failure_ = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                "keep-alive unanswered within --timeout");
      } else if (status.ok()) {
        failure_ = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "keep-alive stream ended before the answer");
      } else {
        failure_ = status;
      }
      Revoke();
    }
  }

 private:
  void NewContext() {
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::microseconds(static_cast<int64_t>(runner_->options().timeout_s * 1e6)));
  }
  void StepDone(LeaseStep step) {
    const auto now = Clock::now();
    runner_->RecordStep(
        shard_, step,
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - step_start_).count()));
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
    bool fresh = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stream_ == nullptr) {
        streams_.push_back(std::make_unique<KeepAliveStream>(this));
        stream_ = streams_.back().get();
        fresh = true;
      }
      stream = stream_;
      awaiting_keepalive_ = true;
      keepalive_sent_ = Clock::now();
    }
    // gRPC calls start outside mu_: a reaction run inline may need it. A stream that ended
    // meanwhile reports the unanswered keep-alive from its OnDone.
    if (fresh) {
      stream->Start(stub_, grant_resp_.id());
    } else {
      stream->Send(grant_resp_.id());
    }
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
      runner_->RecordOk(shard_,
                        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
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
  grpc::Status failure_;                      // the cycle's first failure
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
  Clock::time_point keepalive_sent_;
  bool stalled_ = false;  // CheckStalled closed the stream
  bool finishing_ = false;
  int finish_waits_ = 0;
};

void KeepAliveStream::OnReadDone(bool ok) {
  if (!ok) {
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      dead_ = true;
    }
    RemoveHold();  // OnDone follows once the write in flight, if any, completes
    return;
  }
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
  runner.Wait(start, progress, [&clients] {
    const auto now = Clock::now();
    for (auto& c : clients) c->CheckStalled(now);
  });
  RunResult result;
  result.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  runner.Collect(&result);
  result.targets = targets;
  return result;
}

}  // namespace synod::bench
