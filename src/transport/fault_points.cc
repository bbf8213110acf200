#include "transport/fault_points.h"

#include "base/assert.h"

namespace synod::transport {

PeerFaults::PeerFaults(uint64_t seed, raft::NodeId peer)
    // Mixing the peer id in (an odd constant keeps distinct ids distinct) gives each peer its
    // own stream, so faults toward one peer do not depend on traffic to another.
    : random_(seed ^ (peer.value * 0x9e3779b97f4a7c15ULL)) {}

void PeerFaults::Set(const FaultConfig& config) {
  SYNOD_ASSERT(config.drop_probability >= 0 && config.drop_probability <= 1,
               "drop probability outside [0, 1]");
  SYNOD_ASSERT(config.delay.count() >= 0 && config.jitter.count() >= 0, "negative delay");
  config_ = config;
}

PeerFaults::Decision PeerFaults::NextOutgoing() {
  Decision d;
  if (config_.blocked) {
    d.drop = true;
    return d;
  }
  if (config_.drop_probability > 0 && random_.Chance(config_.drop_probability)) {
    d.drop = true;
    return d;
  }
  d.delay = config_.delay;
  if (config_.jitter.count() > 0) {
    const auto extra = random_.Between(0, static_cast<uint64_t>(config_.jitter.count()));
    d.delay += std::chrono::microseconds(static_cast<int64_t>(extra));
  }
  return d;
}

}  // namespace synod::transport
