#include "server/peer_liveness.h"

#include <cstdio>
#include <string>
#include <utility>

namespace synod::server {

PeerLiveness::PeerLiveness(const gossip::PhiAccrualOptions& options,
                           std::function<double()> now_ms, metrics::Registry* registry)
    : options_(options), now_ms_(std::move(now_ms)), registry_(registry) {}

void PeerLiveness::Heard(uint64_t peer) {
  bool added = false;
  {
    std::lock_guard lock(mu_);  // the clock is read under it: arrivals reach a detector in order
    auto [it, inserted] = detectors_.try_emplace(peer, options_);
    it->second.Heartbeat(now_ms_());
    added = inserted;
  }
  // Registered outside mu_: a scrape holds the registry's lock while it calls the readers
  // below, which take mu_, so taking the two in the other order here could deadlock.
  if (added && registry_ != nullptr) {
    char id[17];
    std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(peer));
    const metrics::Labels labels = {{"peer", id}};
    registry_->AddGaugeCallback("synod_raft_peer_phi",
                                "Phi accrual suspicion of a Raft peer from its message arrivals.",
                                [this, peer] { return Phi(peer); }, labels);
    registry_->AddGaugeCallback(
        "synod_raft_peer_suspected", "1 when a Raft peer's phi is above the threshold.",
        [this, peer] { return Suspected(peer) ? 1.0 : 0.0; }, labels);
  }
}

double PeerLiveness::Phi(uint64_t peer) const {
  std::lock_guard lock(mu_);
  auto it = detectors_.find(peer);
  return it == detectors_.end() ? 0.0 : it->second.Phi(now_ms_());
}

gossip::PhiAccrualOptions RaftPeerPhiOptions(uint32_t heartbeat_interval_ms) {
  gossip::PhiAccrualOptions o;
  o.first_interval_estimate = heartbeat_interval_ms;
  o.std_dev_min = heartbeat_interval_ms / 4.0;
  // A busy loop or an fsync stall of one interval is not yet a failure.
  o.acceptable_pause = heartbeat_interval_ms;
  return o;
}

}  // namespace synod::server
