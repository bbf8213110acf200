#include "sim/network.h"

#include <cmath>

#include "base/assert.h"

namespace synod::sim {

Network::Network(uint32_t nodes, NetworkOptions options, Random rng)
    : nodes_(nodes), options_(options), rng_(rng), cut_((nodes + 1) * (nodes + 1), false) {
  SYNOD_ASSERT(nodes >= 1 && nodes <= 63, "network supports 1..63 slots");
  SYNOD_ASSERT(options.loss_probability >= 0 && options.loss_probability < 1, "loss in [0,1)");
}

size_t Network::Index(uint32_t from, uint32_t to) const {
  SYNOD_ASSERT(from >= 1 && from <= nodes_ && to >= 1 && to <= nodes_, "slot out of range");
  return static_cast<size_t>(from) * (nodes_ + 1) + to;
}

Micros Network::SampleLatency() {
  Micros d = options_.latency_base_us;
  if (options_.latency_tail_mean_us > 0) {
    // Exponential tail by inversion; 1 - u is in (0, 1] so the log is finite.
    const double u = rng_.NextDouble();
    d += static_cast<Micros>(-std::log(1.0 - u) *
                             static_cast<double>(options_.latency_tail_mean_us));
  }
  if (options_.slow_probability > 0 && rng_.Chance(options_.slow_probability)) {
    d += static_cast<Micros>(rng_.Uniform(static_cast<uint64_t>(options_.slow_latency_max_us) + 1));
  }
  return d;
}

SendPlan Network::Plan(uint32_t from, uint32_t to) {
  SendPlan plan;
  if (!LinkUp(from, to)) return plan;
  if (options_.loss_probability > 0 && rng_.Chance(options_.loss_probability)) return plan;
  plan.delays_us[plan.copies++] = SampleLatency();
  if (options_.duplicate_probability > 0 && rng_.Chance(options_.duplicate_probability)) {
    plan.delays_us[plan.copies++] = SampleLatency();
  }
  return plan;
}

void Network::SetLink(uint32_t from, uint32_t to, bool up) {
  if (from == to) return;  // a node always reaches itself
  cut_[Index(from, to)] = !up;
}

void Network::SplitSymmetric(uint64_t side) {
  for (uint32_t a = 1; a <= nodes_; ++a) {
    for (uint32_t b = 1; b <= nodes_; ++b) {
      const bool sa = (side >> a) & 1, sb = (side >> b) & 1;
      if (sa != sb) SetLink(a, b, false);
    }
  }
}

void Network::IsolateInbound(uint32_t node) {
  for (uint32_t a = 1; a <= nodes_; ++a) SetLink(a, node, false);
}

void Network::IsolateOutbound(uint32_t node) {
  for (uint32_t b = 1; b <= nodes_; ++b) SetLink(node, b, false);
}

void Network::SplitWithBridge(uint64_t side, uint32_t bridge) {
  for (uint32_t a = 1; a <= nodes_; ++a) {
    for (uint32_t b = 1; b <= nodes_; ++b) {
      if (a == bridge || b == bridge) continue;
      const bool sa = (side >> a) & 1, sb = (side >> b) & 1;
      if (sa != sb) SetLink(a, b, false);
    }
  }
}

void Network::HealAll() {
  cut_.assign(cut_.size(), false);
}

bool Network::AnyCut() const {
  return CutCount() > 0;
}

uint32_t Network::CutCount() const {
  uint32_t n = 0;
  for (bool c : cut_) n += c ? 1 : 0;
  return n;
}

std::string Network::DescribeCuts() const {
  std::string out;
  for (uint32_t a = 1; a <= nodes_; ++a) {
    for (uint32_t b = 1; b <= nodes_; ++b) {
      if (a == b || LinkUp(a, b)) continue;
      if (!out.empty()) out += ' ';
      out += std::to_string(a) + "->" + std::to_string(b);
    }
  }
  return out.empty() ? "none" : out;
}

}  // namespace synod::sim
