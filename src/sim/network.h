// The simulated network between node slots 1..n: per-message latency, loss, duplication and
// reordering, and a directed link matrix for partitions. It only decides the fate of a message
// (when each copy arrives, or that it is lost); the caller schedules the deliveries, so this
// class knows nothing of Raft and is tested alone.
//
// Faults modelled (all that an asynchronous network may do to Raft, §5.1 "messages may be
// lost, duplicated, reordered or delayed"):
//  - latency: base + exponential tail, plus rare slow messages (tens of ms): independent delays
//    per message, hence reordering;
//  - loss and duplication (the copy gets its own delay);
//  - partitions: symmetric splits, asymmetric ones (one node hears but is not heard, or the
//    reverse), one-way link cuts and "bridge" partitions where one node sees both sides.
//    A link is checked at send and again at delivery: a message in flight when a link is cut
//    is lost.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/random.h"
#include "sim/time.h"

namespace synod::sim {

struct NetworkOptions {
  Micros latency_base_us = 200;
  Micros latency_tail_mean_us = 300;  // exponential tail on top of the base
  double slow_probability = 0.01;     // rare stragglers, which reorder messages strongly
  Micros slow_latency_max_us = 50 * kMillis;
  double loss_probability = 0.0;
  double duplicate_probability = 0.0;
};

// What happens to one sent message: 0, 1 or 2 copies, each with its own delay.
struct SendPlan {
  std::array<Micros, 2> delays_us{};
  int copies = 0;
};

class Network {
 public:
  // Slots are numbered 1..nodes (slot 0 is unused, like raft::kNoNode).
  Network(uint32_t nodes, NetworkOptions options, Random rng);

  const NetworkOptions& options() const { return options_; }
  uint32_t nodes() const { return nodes_; }

  SendPlan Plan(uint32_t from, uint32_t to);
  Micros SampleLatency();

  bool LinkUp(uint32_t from, uint32_t to) const { return !cut_[Index(from, to)]; }
  void SetLink(uint32_t from, uint32_t to, bool up);
  // Cuts every link between `side` (a bit per slot, bit i for slot i) and the other slots.
  void SplitSymmetric(uint64_t side);
  // The node still sends but hears nothing (inbound) or hears but is not heard (outbound).
  void IsolateInbound(uint32_t node);
  void IsolateOutbound(uint32_t node);
  // Two groups cut from each other, except `bridge`, which keeps its links to both.
  void SplitWithBridge(uint64_t side, uint32_t bridge);
  void HealAll();
  bool AnyCut() const;
  uint32_t CutCount() const;
  // Human-readable matrix of cut links, e.g. "1->2 2->1 3->1".
  std::string DescribeCuts() const;

 private:
  size_t Index(uint32_t from, uint32_t to) const;

  uint32_t nodes_;
  NetworkOptions options_;
  Random rng_;
  std::vector<bool> cut_;  // (nodes+1)^2, row = from
};

}  // namespace synod::sim
