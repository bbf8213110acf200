#include "server/lease_ticker.h"

#include <cstdio>
#include <string>

#include "base/assert.h"
#include "server/command.pb.h"

namespace synod::server {

LeaseTicker::LeaseTicker(const LeaseTickerOptions& options, Lessor* lessor, node::Node* node)
    : opts_(options), lessor_(lessor), node_(node) {
  SYNOD_ASSERT(lessor_ != nullptr && node_ != nullptr, "the ticker drives a lessor and a node");
  SYNOD_ASSERT(opts_.interval.count() > 0, "a positive tick interval");
  thread_ = std::thread([this] { Run(); });
}

LeaseTicker::~LeaseTicker() {
  Stop();
}

void LeaseTicker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseTicker::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, opts_.interval, [this] { return stopping_; })) {
    lock.unlock();
    TickOnce();
    lock.lock();
  }
}

void LeaseTicker::TickOnce() {
  const node::NodeInfo info = node_->Info();
  const bool leader = info.role == raft::Role::kLeader;
  const std::vector<int64_t> due = lessor_->Tick(leader, info.term.value);
  if (due.empty()) return;
  if (opts_.log) {
    char first[24];  // in hex, as etcdctl prints lease ids
    std::snprintf(first, sizeof(first), "%016llx", static_cast<unsigned long long>(due.front()));
    opts_.log("revoking " + std::to_string(due.size()) + " expired lease(s), first " + first);
  }
  for (const int64_t id : due) {
    serverpb::Command c;
    c.mutable_lease_revoke()->set_id(id);
    Lessor* lessor = lessor_;
    // Applying the revoke tells the lessor on every member; only a failure needs handling.
    node_->Propose(c.SerializeAsString(), [lessor, id](Result<std::any> r) {
      if (!r.ok()) lessor->RevokeFailed(id);
    });
  }
}

}  // namespace synod::server
