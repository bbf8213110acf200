#include "gossip/sim/world.h"

namespace synod::gossip::sim {

World::World(const WorldOptions& options) : options_(options), rng_(options.seed) {
  SYNOD_ASSERT(options.nodes >= 1, "a world needs members");
  SYNOD_ASSERT(
      options.latency_min_ticks >= 1 && options.latency_min_ticks <= options.latency_max_ticks,
      "latency range");
  SYNOD_ASSERT(options.slow_factor >= 1, "slow_factor >= 1");
  wheel_.resize(options.latency_max_ticks * options.slow_factor + 1);
  crashed_.assign(options.nodes, false);
  slow_.assign(options.nodes, false);
  for (uint32_t i = 0; i < options.nodes; ++i) {
    Config c = options.config;
    c.id = IdAt(i);
    c.random_seed = rng_.Next();
    nodes_.push_back(std::make_unique<Swim>(c));
    slow_[i] = options.slow_fraction > 0 && rng_.Chance(options.slow_fraction);
  }
  running_ = options.nodes;
  if (options.join_via_seeds) {
    std::vector<MemberId> seeds;
    for (uint32_t i = 0; i < std::min(options.join_seeds, options.nodes); ++i) {
      seeds.push_back(IdAt(i));
    }
    for (auto& n : nodes_) n->Join(seeds);
  } else {
    std::vector<Update> all;
    for (uint32_t i = 0; i < options.nodes; ++i) {
      all.push_back(Update{MemberState::kAlive, IdAt(i), Incarnation(0), IdAt(i), nullptr});
    }
    for (auto& n : nodes_) {
      n->Bootstrap(all);
      (void)n->TakeEvents();
    }
  }
  for (size_t i = 0; i < nodes_.size(); ++i) Collect(i);
}

void World::Crash(MemberId id) {
  const size_t i = Index(id);
  if (crashed_[i]) return;
  crashed_[i] = true;
  --running_;
}

void World::Collect(size_t index) {
  Swim& n = *nodes_[index];
  if (hook_) {
    for (const MemberEvent& e : n.TakeEvents()) hook_(n.id(), e);
  } else {
    (void)n.TakeEvents();
  }
  for (Message& m : n.TakeMessages()) {
    ++stats_.sent;
    ++stats_.by_type[static_cast<size_t>(m.type)];
    stats_.updates_sent += m.updates.size();
    if (options_.loss > 0 && rng_.Chance(options_.loss)) {
      ++stats_.lost;
      continue;
    }
    uint64_t delay = rng_.Between(options_.latency_min_ticks, options_.latency_max_ticks);
    if (slow_[Index(m.to)]) delay *= options_.slow_factor;
    wheel_[(now_ticks_ + delay) % wheel_.size()].push_back(std::move(m));
  }
}

void World::Step() {
  ++now_ticks_;
  std::vector<Message> due = std::move(wheel_[now_ticks_ % wheel_.size()]);
  wheel_[now_ticks_ % wheel_.size()].clear();
  for (const Message& m : due) {
    const size_t to = Index(m.to);
    if (crashed_[to]) continue;
    const Status st = nodes_[to]->Step(m);
    SYNOD_ASSERT(st.ok(), "simulated message rejected");
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (crashed_[i]) continue;
    nodes_[i]->Tick();
    Collect(i);
  }
}

}  // namespace synod::gossip::sim
