// PeerLiveness: the phi accrual detector (src/gossip/phi_accrual.h) over the Raft traffic a
// member receives. Every batch of Raft messages from a peer counts as a heartbeat from it, so
// no extra traffic is sent. A leader hears each follower answer its heartbeats every heartbeat
// interval; a follower hears the leader. Followers do not talk to each other, so on a follower
// the phi of the other followers only grows: read a follower's figure for its leader and the
// leader's figures for its followers (the gossip layer, gossip_agent.h, covers every pair).
//
// Reported as synod_raft_peer_phi{peer="<id hex>"} and synod_raft_peer_suspected (1 when phi
// is above the threshold). Thread-safe: Heard runs on the transport's threads, the metrics
// are read by scrapes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "gossip/phi_accrual.h"
#include "metrics/registry.h"

namespace synod::server {

class PeerLiveness {
 public:
  // now_ms: a monotonic clock in milliseconds (injected for tests). registry may be null.
  PeerLiveness(const gossip::PhiAccrualOptions& options, std::function<double()> now_ms,
               metrics::Registry* registry);
  PeerLiveness(const PeerLiveness&) = delete;
  PeerLiveness& operator=(const PeerLiveness&) = delete;

  // A message from `peer` arrived now.
  void Heard(uint64_t peer);
  // phi of `peer` now; 0 for a peer never heard.
  double Phi(uint64_t peer) const;
  bool Suspected(uint64_t peer) const { return Phi(peer) >= options_.threshold; }

 private:
  const gossip::PhiAccrualOptions options_;
  const std::function<double()> now_ms_;
  metrics::Registry* const registry_;
  mutable std::mutex mu_;
  std::map<uint64_t, gossip::PhiAccrualDetector> detectors_;  // guarded by mu_
};

// Options for Raft traffic sent every heartbeat_interval_ms: a new peer is judged from its first
// message on, and jitter of a quarter interval is normal.
gossip::PhiAccrualOptions RaftPeerPhiOptions(uint32_t heartbeat_interval_ms);

}  // namespace synod::server
