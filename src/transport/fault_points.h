// Fault points: network faults the transport injects on purpose, switched on at runtime by
// tests (the real-process cluster tests have no tc netem; loss, delay and partitions come
// from here). Every random choice comes from a synod::Random seeded from the transport's
// fault seed and the peer id, so for a given seed the same sequence of messages sent to a
// peer meets the same drops and delays, whatever happens on other peers.
#pragma once

#include <chrono>
#include <cstdint>

#include "base/random.h"
#include "raft/types.h"

namespace synod::transport {

struct FaultConfig {
  // Outgoing: each message to the peer is dropped with this probability, in [0, 1].
  double drop_probability = 0;
  // Outgoing: each message is held back `delay` plus a uniform extra in [0, jitter] before it
  // may be written. Messages to one peer stay in order (a held message also holds those
  // behind it), as TCP would keep them; the simulator is where reordering is explored.
  std::chrono::microseconds delay{0};
  std::chrono::microseconds jitter{0};
  // Both directions: nothing is sent to the peer, and whatever arrives from it is discarded
  // after decoding. Connections stay up, so lifting the block heals at once, as a healed
  // network partition would.
  bool blocked = false;

  bool IsNone() const {
    return drop_probability == 0 && delay.count() == 0 && jitter.count() == 0 && !blocked;
  }
};

// The fault state of one peer. Not thread-safe: the transport guards it with its lock.
class PeerFaults {
 public:
  PeerFaults(uint64_t seed, raft::NodeId peer);

  void Set(const FaultConfig& config);
  const FaultConfig& config() const { return config_; }

  struct Decision {
    bool drop = false;
    std::chrono::microseconds delay{0};
  };
  // The fate of the next outgoing message. Draws random numbers only for the faults that are
  // on, so switching a fault on does not shift the sequence of another.
  Decision NextOutgoing();

 private:
  FaultConfig config_;
  Random random_;
};

}  // namespace synod::transport
