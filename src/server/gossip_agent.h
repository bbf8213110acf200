// GossipAgent: runs the SWIM membership core (src/gossip) for one synod member over UDP.
// The datagram socket listens on the host and port NUMBER of the member's peer URL (TCP there
// carries Raft; UDP on the same number is a separate port, so the Raft transport is untouched).
// Every member of the initial cluster is a seed. One thread of its own drives the core: a tick
// every tick_ms, each received datagram decoded and stepped in, every outgoing message sent.
// A paused process (SIGSTOP) does not catch up missed ticks on resume: its timers simply start
// again, so it does not declare everyone dead for the time it was away.
//
// State changes are logged; the member list is served as JSON (MembersJson, at /members on the
// metrics endpoint) and counted in metrics (synod_gossip_members{state=...}).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "gossip/config.h"

namespace synod::metrics {
class Registry;
}  // namespace synod::metrics

namespace synod::server {

struct GossipPeer {
  uint64_t id = 0;
  std::string host_port;  // where its gossip socket listens
  std::string name;
};

struct GossipAgentOptions {
  uint64_t self_id = 0;
  std::string self_name;
  std::string listen;             // host:port of the UDP socket
  std::vector<GossipPeer> peers;  // the initial cluster, self included or not
  uint32_t tick_ms = 10;
  gossip::Config config;  // id, meta and seed are filled in by Start
};

// Timing of the server's gossip in ticks of 10 ms: a 500 ms protocol period, a 200 ms direct
// probe timeout, gossip rounds every 100 ms, push-pull every 30 s, and suspicion timeouts of
// 4 x max(1, log10 n) periods (2 s in a 5-member cluster), up to 3 times that without
// confirmations.
gossip::Config ServerGossipConfig();

class GossipAgent {
 public:
  static Result<std::unique_ptr<GossipAgent>> Start(const GossipAgentOptions& options,
                                                    metrics::Registry* registry);
  ~GossipAgent();
  GossipAgent(const GossipAgent&) = delete;
  GossipAgent& operator=(const GossipAgent&) = delete;

  void Stop();
  // {"self":"<hex id>","members":[{"id":"<hex>","name":..,"address":..,"state":"alive",
  //  "incarnation":N}, ...]} sorted by id.
  std::string MembersJson() const;

  class Impl;

 private:
  explicit GossipAgent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synod::server
