// A simulated world for the SWIM core: thousands of Swim members in one thread, driven by one
// seed. Time is the members' tick; the network delays each message by a uniform latency, loses
// it with a fixed probability, and delivers messages due in the same tick in the order they
// were sent, so a run depends only on its options. Crashed members stop; slow members receive
// every message slow_factor times later (a member whose CPU is starved processes its inbox
// late: the condition Lifeguard §2 sets out to survive).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/random.h"
#include "gossip/config.h"
#include "gossip/swim.h"

namespace synod::gossip::sim {

struct WorldOptions {
  uint64_t seed = 1;
  uint32_t nodes = 100;
  double loss = 0;  // probability each message is lost
  uint32_t latency_min_ticks = 1;
  uint32_t latency_max_ticks = 2;
  double slow_fraction = 0;  // share of members that are slow
  uint32_t slow_factor = 10;
  // Members learn each other through seeds (join_seeds members that joined first) instead of
  // starting from the full list.
  bool join_via_seeds = false;
  uint32_t join_seeds = 3;
  Config config;  // template: id and random_seed are set per member
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t lost = 0;
  uint64_t updates_sent = 0;  // piggybacked updates
  std::array<uint64_t, 7> by_type{};
};

class World {
 public:
  using EventHook = std::function<void(MemberId observer, const MemberEvent&)>;

  explicit World(const WorldOptions& options);

  // Advances the world by one tick: delivers messages due, ticks every running member, then
  // sends what they produced.
  void Step();
  void Run(uint64_t ticks) {
    for (uint64_t i = 0; i < ticks; ++i) Step();
  }

  void Crash(MemberId id);
  void set_event_hook(EventHook hook) { hook_ = std::move(hook); }

  uint64_t now_ticks() const { return now_ticks_; }
  uint32_t size() const { return static_cast<uint32_t>(nodes_.size()); }
  Swim& node(MemberId id) { return *nodes_[Index(id)]; }
  bool crashed(MemberId id) const { return crashed_[Index(id)]; }
  bool slow(MemberId id) const { return slow_[Index(id)]; }
  uint32_t running() const { return running_; }
  const NetworkStats& stats() const { return stats_; }
  Random& rng() { return rng_; }
  // Members are numbered 1..size().
  static MemberId IdAt(uint32_t index) { return MemberId(index + 1); }

 private:
  size_t Index(MemberId id) const {
    SYNOD_ASSERT(id.value >= 1 && id.value <= nodes_.size(), "no such simulated member");
    return id.value - 1;
  }
  void Collect(size_t index);

  WorldOptions options_;
  Random rng_;
  std::vector<std::unique_ptr<Swim>> nodes_;
  std::vector<bool> crashed_;
  std::vector<bool> slow_;
  uint32_t running_ = 0;
  uint64_t now_ticks_ = 0;
  std::vector<std::vector<Message>> wheel_;  // messages by delivery tick modulo its size
  NetworkStats stats_;
  EventHook hook_;
};

}  // namespace synod::gossip::sim
