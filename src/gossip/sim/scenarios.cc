#include "gossip/sim/scenarios.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace synod::gossip::sim {

Percentiles Summarize(std::vector<double> values) {
  Percentiles p;
  p.count = values.size();
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    const size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1;
    return values[std::min(i, values.size() - 1)];
  };
  p.median = at(0.5);
  p.p90 = at(0.9);
  p.max = values.back();
  return p;
}

namespace {

bool EveryoneKnows(World& w, MemberId member, Incarnation inc) {
  for (uint32_t i = 0; i < w.size(); ++i) {
    const MemberId id = World::IdAt(i);
    if (w.crashed(id) || id == member) continue;
    const Member* m = w.node(id).members().Find(member);
    if (m == nullptr || m->incarnation < inc) return false;
  }
  return true;
}

}  // namespace

DisseminationResult MeasureDissemination(const WorldOptions& options, uint32_t updates) {
  World w(options);
  const uint32_t period = options.config.probe_interval_ticks;
  // Let bootstrap traffic settle.
  w.Run(uint64_t{period} * 5);
  const uint64_t sent_before = w.stats().sent;
  const uint64_t updates_before = w.stats().updates_sent;
  const uint64_t start = w.now_ticks();
  // An update that has not reached everyone in this long counts as unfinished.
  const uint64_t deadline_ticks = uint64_t{period} * 60;
  std::vector<double> ticks;
  DisseminationResult r;
  for (uint32_t u = 0; u < updates; ++u) {
    const MemberId who = World::IdAt(static_cast<uint32_t>(w.rng().Uniform(w.size())));
    Swim& n = w.node(who);
    n.UpdateMeta(
        std::make_shared<const MemberMeta>(MemberMeta{"sim", "zone-" + std::to_string(u % 3), {}}));
    const Incarnation inc = n.incarnation();
    const uint64_t t0 = w.now_ticks();
    bool done = false;
    while (w.now_ticks() - t0 < deadline_ticks) {
      w.Step();
      if (EveryoneKnows(w, who, inc)) {
        done = true;
        break;
      }
    }
    if (done) {
      ticks.push_back(static_cast<double>(w.now_ticks() - t0));
    } else {
      ++r.unfinished;
    }
    // Let the update's retransmissions drain before the next one, so each is measured alone.
    w.Run(uint64_t{period} * 3);
  }
  const double elapsed_periods = static_cast<double>(w.now_ticks() - start) / period;
  const double messages = static_cast<double>(w.stats().sent - sent_before);
  r.messages_per_member_per_period = messages / w.running() / elapsed_periods;
  r.updates_per_message =
      messages > 0 ? static_cast<double>(w.stats().updates_sent - updates_before) / messages : 0;
  const double gossip = std::max<uint32_t>(1, options.config.gossip_interval_ticks);
  std::vector<double> rounds;
  std::vector<double> periods;
  for (double t : ticks) {
    rounds.push_back(t / gossip);
    periods.push_back(t / period);
  }
  r.rounds = Summarize(rounds);
  r.periods = Summarize(periods);
  return r;
}

DetectionResult MeasureDetection(const WorldOptions& options, uint32_t periods,
                                 uint32_t crash_every_periods) {
  World w(options);
  const uint32_t period = options.config.probe_interval_ticks;
  struct Crash {
    uint64_t at = 0;
    uint64_t first_suspect = 0;
    uint64_t first_dead = 0;
    uint64_t all_dead = 0;
    uint32_t dead_observers = 0;
  };
  std::map<MemberId, Crash> crashes;
  std::set<MemberId> falsely_dead;
  std::set<MemberId> slow_dead;
  DetectionResult r;
  w.set_event_hook([&](MemberId observer, const MemberEvent& e) {
    (void)observer;
    auto it = crashes.find(e.member);
    if (it == crashes.end()) {
      if (w.slow(e.member)) {
        if (e.to == MemberState::kDead) slow_dead.insert(e.member);
        return;
      }
      if (e.to == MemberState::kDead) {
        ++r.false_dead_events;
        falsely_dead.insert(e.member);
      }
      if (e.to == MemberState::kSuspect) ++r.false_suspect_events;
      return;
    }
    Crash& c = it->second;
    if (e.to == MemberState::kSuspect && c.first_suspect == 0) c.first_suspect = w.now_ticks();
    if (e.to == MemberState::kDead) {
      if (c.first_suspect == 0) c.first_suspect = w.now_ticks();
      if (c.first_dead == 0) c.first_dead = w.now_ticks();
      if (++c.dead_observers >= w.running() && c.all_dead == 0) c.all_dead = w.now_ticks();
    }
  });
  for (uint32_t i = 0; i < w.size(); ++i) r.slow_members += w.slow(World::IdAt(i)) ? 1 : 0;
  const uint64_t sent_before = w.stats().sent;
  for (uint32_t p = 0; p < periods; ++p) {
    if (crash_every_periods > 0 && p % crash_every_periods == crash_every_periods / 2) {
      // A random healthy member crashes at a random tick of this period.
      w.Run(w.rng().Uniform(period));
      for (int tries = 0; tries < 100; ++tries) {
        const MemberId victim = World::IdAt(static_cast<uint32_t>(w.rng().Uniform(w.size())));
        if (w.crashed(victim) || w.slow(victim)) continue;
        // Observers that already hold it dead (none, normally) are not counted twice.
        w.Crash(victim);
        crashes[victim] = Crash{w.now_ticks(), 0, 0, 0, 0};
        break;
      }
      w.Run(period - (w.now_ticks() % period));
    } else {
      w.Run(period);
    }
  }
  r.messages_per_member_per_period =
      static_cast<double>(w.stats().sent - sent_before) / w.running() / periods;
  std::vector<double> suspect;
  std::vector<double> first_dead;
  std::vector<double> all_dead;
  for (const auto& [id, c] : crashes) {
    if (c.first_suspect) suspect.push_back(static_cast<double>(c.first_suspect - c.at) / period);
    if (c.first_dead) first_dead.push_back(static_cast<double>(c.first_dead - c.at) / period);
    if (c.all_dead) {
      all_dead.push_back(static_cast<double>(c.all_dead - c.at) / period);
    } else {
      ++r.undetected;
    }
  }
  r.first_suspect_periods = Summarize(suspect);
  r.first_dead_periods = Summarize(first_dead);
  r.all_dead_periods = Summarize(all_dead);
  r.healthy_declared_dead = static_cast<uint32_t>(falsely_dead.size());
  r.slow_declared_dead = static_cast<uint32_t>(slow_dead.size());
  r.healthy_members = w.size() - static_cast<uint32_t>(crashes.size()) - r.slow_members;
  for (uint32_t i = 0; i < w.size(); ++i) {
    const MemberId id = World::IdAt(i);
    if (!w.crashed(id))
      r.max_health_score = std::max(r.max_health_score, w.node(id).health_score());
  }
  return r;
}

}  // namespace synod::gossip::sim
