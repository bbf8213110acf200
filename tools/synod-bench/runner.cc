#include "runner.h"

#include "base/status.h"

namespace synod::bench {
namespace {

constexpr int kInlineDepthMax = 8;
thread_local int issue_depth = 0;

}  // namespace

bool EnterIssue(Runner* runner, Issuer* issuer) {
  if (issue_depth >= kInlineDepthMax) {
    runner->Defer(issuer);
    return false;
  }
  ++issue_depth;
  return true;
}

void LeaveIssue() {
  SYNOD_ASSERT(issue_depth > 0, "LeaveIssue without EnterIssue");
  --issue_depth;
}

bool Runner::ClaimTicket() {
  if (options_.duration_s > 0 && Clock::now() >= deadline_) return false;
  if (options_.total > 0 && issued_.fetch_add(1, std::memory_order_relaxed) >= options_.total) {
    return false;
  }
  return true;
}

void Runner::RecordOk(int shard, uint64_t ns) {
  {
    std::lock_guard<std::mutex> lock(shards_[shard].mu);
    shards_[shard].latency_ns.Record(ns);
  }
  ok_.fetch_add(1, std::memory_order_relaxed);
}

void Runner::RecordStep(int shard, LeaseStep step, uint64_t ns) {
  std::lock_guard<std::mutex> lock(shards_[shard].mu);
  shards_[shard].step_ns[static_cast<int>(step)].Record(ns);
}

void Runner::RecordError(int code, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (errors_by_code_[code]++ == 0) error_examples_[code] = message;
  }
  errors_.fetch_add(1, std::memory_order_relaxed);
}

void Runner::ClientFinished() {
  std::lock_guard<std::mutex> lock(mu_);
  SYNOD_ASSERT(active_ > 0, "more clients finished than started");
  if (--active_ == 0) cv_.notify_all();
}

void Runner::Defer(Issuer* issuer) {
  std::lock_guard<std::mutex> lock(mu_);
  deferred_.push_back(issuer);
  cv_.notify_all();
}

void Runner::Wait(Clock::time_point start, const std::function<void(const Progress&)>& progress,
                  const std::function<void()>& tick) {
  auto next_report = start + std::chrono::seconds(1);
  std::unique_lock<std::mutex> lock(mu_);
  while (active_ > 0) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    std::vector<Issuer*> restart;
    restart.swap(deferred_);
    if (!restart.empty()) {
      lock.unlock();
      for (Issuer* c : restart) c->Issue();
      lock.lock();
    }
    if (tick) {
      lock.unlock();
      tick();
      lock.lock();
    }
    const auto now = Clock::now();
    if (now >= next_report && active_ > 0) {
      next_report += std::chrono::seconds(1);
      Progress p;
      p.elapsed_s = std::chrono::duration<double>(now - start).count();
      p.ok = ok_.load();
      p.errors = errors_.load();
      lock.unlock();
      progress(p);
      lock.lock();
    }
  }
}

void Runner::Collect(RunResult* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->ok = ok_.load();
  out->errors = errors_.load();
  out->errors_by_code = errors_by_code_;
  out->error_examples = error_examples_;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> shard_lock(s.mu);
    out->latency_ns.Merge(s.latency_ns);
    if (options_.workload == Workload::kLease) {
      for (int i = 0; i < kLeaseStepCount; ++i) out->lease_step_ns[i].Merge(s.step_ns[i]);
    }
  }
}

}  // namespace synod::bench
