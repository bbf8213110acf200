// synod-gossip-sim: measures the SWIM + Lifeguard core (src/gossip) in a deterministic,
// single-threaded simulation of 1,000 to 10,000 members (src/gossip/sim).
//
//   synod-gossip-sim dissemination --nodes 1000            rounds for an update to reach all
//   synod-gossip-sim detection --nodes 1000 --loss 0.05   crash detection and false positives
//   synod-gossip-sim detection --nodes 1000 --loss 0.05 --slow-fraction 0.05
//
// Prints the seed and every option first, then one result line (add --csv for a CSV line).
// With --expect-detection-periods / --expect-no-false-dead it exits 1 if a target is missed.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "gossip/sim/scenarios.h"

namespace {

using synod::gossip::sim::Percentiles;
using synod::gossip::sim::WorldOptions;

std::string Fmt(const Percentiles& p) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "median %.2f p90 %.2f max %.2f (n=%zu)", p.median, p.p90, p.max,
                p.count);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"synod-gossip-sim: SWIM + Lifeguard membership in a deterministic simulation"};
  app.require_subcommand(1);
  WorldOptions o;
  uint32_t updates = 20;
  uint32_t periods = 1000;
  uint32_t crash_every = 25;
  bool csv = false;
  double expect_detection = 0;
  bool expect_no_false_dead = false;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--seed", o.seed, "seed of the whole run");
    sub->add_option("--nodes", o.nodes, "members")->check(CLI::Range(2u, 20000u));
    sub->add_option("--loss", o.loss, "probability a message is lost")->check(CLI::Range(0.0, 0.9));
    sub->add_option("--slow-fraction", o.slow_fraction, "share of members that are slow");
    sub->add_option("--slow-factor", o.slow_factor, "how much later slow members get messages");
    sub->add_option("--latency-min", o.latency_min_ticks, "network latency, ticks");
    sub->add_option("--latency-max", o.latency_max_ticks, "network latency, ticks");
    sub->add_option("--suspicion-min-mult-percent", o.config.suspicion_min_mult_percent);
    sub->add_option("--suspicion-max-mult", o.config.suspicion_max_mult);
    sub->add_option("--suspicion-confirmations", o.config.suspicion_confirmations_max);
    sub->add_option("--probe-interval", o.config.probe_interval_ticks, "ticks");
    sub->add_option("--probe-timeout", o.config.probe_timeout_ticks, "ticks");
    sub->add_option("--health-score-max", o.config.health_score_max,
                    "Lifeguard local health cap (0 switches it off)");
    sub->add_flag("--join-via-seeds", o.join_via_seeds, "start by joining through 3 seeds");
    sub->add_flag("--csv", csv, "print the result as one CSV line");
  };
  CLI::App* dis = app.add_subcommand("dissemination", "rounds for an update to reach everyone");
  common(dis);
  dis->add_option("--updates", updates, "updates to time, one after another");
  CLI::App* det = app.add_subcommand("detection", "crash detection time and false positives");
  common(det);
  det->add_option("--periods", periods, "protocol periods to run");
  det->add_option("--crash-every", crash_every, "crash a member every this many periods (0: none)");
  det->add_option("--expect-detection-periods", expect_detection,
                  "exit 1 unless the median time until everyone has the crashed member dead is "
                  "at most this");
  det->add_flag("--expect-no-false-dead", expect_no_false_dead,
                "exit 1 if any healthy member is declared dead");
  CLI11_PARSE(app, argc, argv);

  const auto& c = o.config;
  std::printf(
      "# seed %lu nodes %u loss %.3f slow %.3fx%u latency %u-%u ticks period %u ticks "
      "probe-timeout %u gossip %u/%u ticks k %u suspicion %u%%,x%u K %u lhm %u\n",
      static_cast<unsigned long>(o.seed), o.nodes, o.loss, o.slow_fraction, o.slow_factor,
      o.latency_min_ticks, o.latency_max_ticks, c.probe_interval_ticks, c.probe_timeout_ticks,
      c.gossip_fanout, c.gossip_interval_ticks, c.ping_req_members, c.suspicion_min_mult_percent,
      c.suspicion_max_mult, c.suspicion_confirmations_max, c.health_score_max);
  const auto start = std::chrono::steady_clock::now();
  int exit_code = 0;
  if (dis->parsed()) {
    const auto r = synod::gossip::sim::MeasureDissemination(o, updates);
    if (csv) {
      std::printf("dissemination,%u,%.3f,%.2f,%.2f,%.2f,%.2f,%.3f,%.3f,%zu\n", o.nodes, o.loss,
                  r.rounds.median, r.rounds.p90, r.rounds.max, r.periods.median,
                  r.messages_per_member_per_period, r.updates_per_message, r.unfinished);
    } else {
      std::printf("rounds to reach all: %s\n", Fmt(r.rounds).c_str());
      std::printf("periods to reach all: %s\n", Fmt(r.periods).c_str());
      std::printf("messages per member per period: %.3f (updates per message %.2f)\n",
                  r.messages_per_member_per_period, r.updates_per_message);
      std::printf("unfinished updates: %zu\n", r.unfinished);
    }
    if (r.unfinished > 0) exit_code = 1;
  } else {
    const auto r = synod::gossip::sim::MeasureDetection(o, periods, crash_every);
    if (csv) {
      // nodes,loss,slow,lhm,suspect,first_dead,all_dead,all_dead_p90,all_dead_max,undetected,
      // healthy_dead,healthy,slow_dead,false_dead_events,false_suspect_events,msgs
      std::printf(
          "detection,%u,%.3f,%.3f,%u,%.2f,%.2f,%.2f,%.2f,%.2f,%zu,%u,%u,%u,%lu,%lu,%.3f\n", o.nodes,
          o.loss, o.slow_fraction, o.config.health_score_max, r.first_suspect_periods.median,
          r.first_dead_periods.median, r.all_dead_periods.median, r.all_dead_periods.p90,
          r.all_dead_periods.max, r.undetected, r.healthy_declared_dead, r.healthy_members,
          r.slow_declared_dead, static_cast<unsigned long>(r.false_dead_events),
          static_cast<unsigned long>(r.false_suspect_events), r.messages_per_member_per_period);
    } else {
      std::printf("crashes: %zu, undetected at the end: %zu\n", r.all_dead_periods.count,
                  r.undetected);
      std::printf("periods until first suspicion: %s\n", Fmt(r.first_suspect_periods).c_str());
      std::printf("periods until first dead:      %s\n", Fmt(r.first_dead_periods).c_str());
      std::printf("periods until all have dead:   %s\n", Fmt(r.all_dead_periods).c_str());
      std::printf(
          "healthy members declared dead: %u of %u (%lu declarations); suspicions of "
          "healthy members: %lu\n",
          r.healthy_declared_dead, r.healthy_members,
          static_cast<unsigned long>(r.false_dead_events),
          static_cast<unsigned long>(r.false_suspect_events));
      std::printf(
          "slow members: %u, declared dead by some member: %u; highest local health "
          "score at the end: %u\n",
          r.slow_members, r.slow_declared_dead, r.max_health_score);
      std::printf("messages per member per period: %.3f\n", r.messages_per_member_per_period);
    }
    if (expect_detection > 0 &&
        (r.undetected > 0 || r.all_dead_periods.median > expect_detection)) {
      std::printf("FAILED: detection target %.2f periods missed\n", expect_detection);
      exit_code = 1;
    }
    if (expect_no_false_dead && r.healthy_declared_dead > 0) {
      std::printf("FAILED: healthy members declared dead\n");
      exit_code = 1;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("# %.1f s wall\n", secs);
  return exit_code;
}
