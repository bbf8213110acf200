#include "sim/options.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "base/assert.h"
#include "base/random.h"

namespace synod::sim {
namespace {

Micros Ms(uint64_t ms) {
  return static_cast<Micros>(ms) * kMillis;
}

// A fault kind is present in about `p_on` of the seeds.
bool On(Random& r, double p_on) {
  return r.Chance(p_on);
}

double Uniform(Random& r, double lo, double hi) {
  return lo + (hi - lo) * r.NextDouble();
}

// The draws below happen in a fixed order from one stream; the split into functions is for
// reading only. Appending a draw at the end keeps every earlier option of a seed unchanged.
void DrawRaft(Random& r, SimOptions& o) {
  o.election_timeout_ticks = static_cast<uint32_t>(r.Between(10, 30));
  o.heartbeat_interval_ticks = static_cast<uint32_t>(r.Between(1, 3));
  o.pre_vote = r.Chance(0.8);
  o.read_mode = r.Chance(0.5) ? raft::ReadMode::kLeaseBased : raft::ReadMode::kReadIndex;
  o.check_quorum = o.read_mode == raft::ReadMode::kLeaseBased || r.Chance(0.8);
  o.snapshot_interval_entries = r.Between(30, 400);
  o.compaction_keep_entries = r.Between(0, 50);
  const uint64_t append_sizes[] = {1, 256, 4096, 64 << 10};
  o.append_bytes_max = append_sizes[r.Uniform(4)];
}

void DrawClocks(Random& r, SimOptions& o) {
  o.clock_drift_ppm_max = static_cast<int64_t>(r.Between(0, 200));
  // Lease bound (raft/config.h): two clocks drifting apart at 2 * rho over one election
  // timeout, plus one tick for quantization.
  const double rho = static_cast<double>(o.clock_drift_ppm_max) / 1e6;
  o.lease_drift_ticks = static_cast<uint32_t>(std::ceil(2 * rho * o.election_timeout_ticks)) + 1;
  SYNOD_ASSERT(o.lease_drift_ticks < o.election_timeout_ticks, "lease would be empty");
  if (o.read_mode == raft::ReadMode::kReadIndex && On(r, 0.5)) {
    o.clock_jump_rate_per_s = Uniform(r, 0.02, 0.3);
    o.clock_jump_max_us = Ms(r.Between(10, 2000));
  }
}

void DrawNetwork(Random& r, SimOptions& o) {
  o.network.latency_base_us = static_cast<Micros>(r.Between(50, 1000));
  o.network.latency_tail_mean_us = static_cast<Micros>(r.Between(0, 3000));
  o.network.slow_probability = On(r, 0.5) ? Uniform(r, 0, 0.02) : 0;
  // Stragglers: up to 3 s in some seeds, so messages from long-gone terms and leaders arrive.
  o.network.slow_latency_max_us =
      Ms(static_cast<uint64_t>(std::exp(Uniform(r, std::log(5.0), std::log(3000.0)))));
  o.network.loss_probability = On(r, 0.5) ? Uniform(r, 0, 0.1) : 0;
  o.network.duplicate_probability = On(r, 0.5) ? Uniform(r, 0, 0.1) : 0;
  o.client_latency_max_us = Ms(r.Between(1, 5));
  if (On(r, 0.7)) {
    o.partition_rate_per_s = Uniform(r, 0.05, 1.5);
    o.partition_duration_max_us = Ms(r.Between(200, 5000));
  }
}

void DrawDiskAndProcesses(Random& r, SimOptions& o) {
  o.sync_latency_min_us = static_cast<Micros>(r.Between(20, 500));
  o.sync_latency_max_us = o.sync_latency_min_us + static_cast<Micros>(r.Between(0, 5000));
  o.unsynced_survive_probability = Uniform(r, 0, 1);
  o.bit_flip_probability = On(r, 0.3) ? Uniform(r, 0.05, 0.5) : 0;
  if (On(r, 0.7)) {
    o.crash_rate_per_s = Uniform(r, 0.05, 1.0);
    o.restart_delay_max_us = Ms(r.Between(1, 3000));
  }
  o.crash_after_vote_probability = On(r, 0.4) ? Uniform(r, 0.05, 0.5) : 0;
  if (On(r, 0.4)) {
    o.crash_new_leader_probability = Uniform(r, 0.05, 0.5);
    o.crash_new_leader_delay_max_us = Ms(r.Between(1, 50));
  }
  if (On(r, 0.5)) {
    o.pause_rate_per_s = Uniform(r, 0.05, 0.8);
    o.pause_duration_max_us = Ms(r.Between(10, 3000));
  }
  o.leader_target_probability = Uniform(r, 0.3, 0.9);
  if (o.nodes > o.initial_voters && On(r, 0.6)) o.conf_change_rate_per_s = Uniform(r, 0.1, 1.0);
  if (On(r, 0.5)) o.transfer_rate_per_s = Uniform(r, 0.05, 0.5);
}

void DrawWorkload(Random& r, SimOptions& o) {
  o.clients = static_cast<uint32_t>(r.Between(2, 10));
  o.keys = static_cast<uint32_t>(r.Between(1, 5));
  o.think_time_max_us = Ms(r.Between(5, 200));
  o.op_timeout_us = Ms(r.Between(300, 2000));
  o.attempt_timeout_us = o.op_timeout_us / static_cast<Micros>(r.Between(2, 10));
  o.read_fraction = Uniform(r, 0.2, 0.9);
  o.cas_fraction = Uniform(r, 0, 0.3);
  o.log_read_fraction = On(r, 0.5) ? Uniform(r, 0, 0.5) : 0;
  o.sticky_leader_probability = Uniform(r, 0.3, 1.0);
  o.read_only_clients = static_cast<uint32_t>(r.Uniform(o.clients / 2 + 1));
}

}  // namespace

SimOptions DeriveOptions(uint64_t seed, const OptionOverrides& ov) {
  // Its own stream, so adding an option at the end does not reshuffle the others.
  Random r(seed ^ 0x0b7105e5eedULL);
  SimOptions o;
  o.seed = seed;
  o.nodes = ov.nodes;
  SYNOD_ASSERT(o.nodes >= 1 && o.nodes <= 9, "1..9 nodes");
  o.initial_voters = o.nodes < 3 ? o.nodes : 3;
  if (o.nodes >= 5 && r.Chance(0.3)) o.initial_voters = 5;
  if (ov.duration_s > 0) o.safety_duration_us = static_cast<Micros>(ov.duration_s * 1e6);
  o.bugs = ov.bugs;
  DrawRaft(r, o);
  DrawClocks(r, o);
  DrawNetwork(r, o);
  DrawDiskAndProcesses(r, o);
  DrawWorkload(r, o);
  o.forward_proposals = r.Chance(0.5);
  o.fault_intensity = std::exp(Uniform(r, std::log(0.05), 0.0));  // log-uniform in [0.05, 1]
  o.clock_jump_rate_per_s *= o.fault_intensity;
  o.partition_rate_per_s *= o.fault_intensity;
  o.crash_rate_per_s *= o.fault_intensity;
  o.pause_rate_per_s *= o.fault_intensity;
  o.crash_after_vote_probability *= o.fault_intensity;
  o.crash_new_leader_probability *= o.fault_intensity;
  const uint32_t inflight[] = {1, 4, 16, 256};
  o.inflight_msgs_max = inflight[r.Uniform(4)];
  const uint64_t uncommitted[] = {1 << 10, 64 << 10, 64 << 20};
  o.uncommitted_bytes_max = uncommitted[r.Uniform(3)];
  const uint64_t apply[] = {1, 4 << 10, 64 << 20};
  o.apply_bytes_max = apply[r.Uniform(3)];
  return o;
}

std::string DescribeOptions(const SimOptions& o) {
  std::string out;
  char line[512];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  add("seed=%" PRIu64 " nodes=%u initial_voters=%u safety_s=%.1f liveness_bound_s=%.1f\n", o.seed,
      o.nodes, o.initial_voters, static_cast<double>(o.safety_duration_us) / 1e6,
      static_cast<double>(o.liveness_bound_us) / 1e6);
  add("  raft: election_ticks=%u heartbeat_ticks=%u pre_vote=%d check_quorum=%d "
      "forward_proposals=%d read_mode=%s lease_drift_ticks=%u tick_ms=%.1f snapshot_every=%" PRIu64
      " keep=%" PRIu64 " append_bytes_max=%" PRIu64
      " inflight_msgs_max=%u"
      " uncommitted_bytes_max=%" PRIu64 " apply_bytes_max=%" PRIu64 "\n",
      o.election_timeout_ticks, o.heartbeat_interval_ticks, o.pre_vote, o.check_quorum,
      o.forward_proposals, o.read_mode == raft::ReadMode::kLeaseBased ? "lease" : "read_index",
      o.lease_drift_ticks, static_cast<double>(o.tick_interval_us) / 1e3,
      o.snapshot_interval_entries, o.compaction_keep_entries, o.append_bytes_max,
      o.inflight_msgs_max, o.uncommitted_bytes_max, o.apply_bytes_max);
  add("  bugs: vote_without_log_check=%d commit_old_term_by_count=%d vote_before_persist=%d "
      "lease_read_without_lease=%d\n",
      o.bugs.vote_without_log_check, o.bugs.commit_old_term_by_count, o.bugs.vote_before_persist,
      o.bugs.lease_read_without_lease);
  add("  clocks: drift_ppm_max=%" PRId64 " jump_rate_per_s=%.3f jump_max_ms=%.0f\n",
      o.clock_drift_ppm_max, o.clock_jump_rate_per_s,
      static_cast<double>(o.clock_jump_max_us) / 1e3);
  add("  network: latency_base_us=%" PRId64 " tail_mean_us=%" PRId64
      " slow_p=%.4f slow_max_ms=%.0f"
      " loss=%.4f dup=%.4f client_latency_max_ms=%.0f partition_rate_per_s=%.3f "
      "partition_max_ms=%.0f\n",
      o.network.latency_base_us, o.network.latency_tail_mean_us, o.network.slow_probability,
      static_cast<double>(o.network.slow_latency_max_us) / 1e3, o.network.loss_probability,
      o.network.duplicate_probability, static_cast<double>(o.client_latency_max_us) / 1e3,
      o.partition_rate_per_s, static_cast<double>(o.partition_duration_max_us) / 1e3);
  add("  disk: sync_us=[%" PRId64 ",%" PRId64
      "] unsynced_survive_p=%.3f bit_flip_p=%.3f "
      "lost_nodes_max=%u\n",
      o.sync_latency_min_us, o.sync_latency_max_us, o.unsynced_survive_probability,
      o.bit_flip_probability, o.lost_nodes_max);
  add("  process: crash_rate_per_s=%.3f restart_max_ms=%.0f crash_after_vote_p=%.3f "
      "crash_new_leader_p=%.3f crash_new_leader_max_ms=%.0f pause_rate_per_s=%.3f "
      "pause_max_ms=%.0f leader_target_p=%.2f (rates above include fault_intensity=%.3f)\n",
      o.crash_rate_per_s, static_cast<double>(o.restart_delay_max_us) / 1e3,
      o.crash_after_vote_probability, o.crash_new_leader_probability,
      static_cast<double>(o.crash_new_leader_delay_max_us) / 1e3, o.pause_rate_per_s,
      static_cast<double>(o.pause_duration_max_us) / 1e3, o.leader_target_probability,
      o.fault_intensity);
  add("  membership: conf_change_rate_per_s=%.3f transfer_rate_per_s=%.3f\n",
      o.conf_change_rate_per_s, o.transfer_rate_per_s);
  add("  workload: clients=%u read_only_clients=%u keys=%u think_max_ms=%.0f op_timeout_ms=%.0f "
      "attempt_timeout_ms=%.0f"
      " read=%.2f cas=%.2f log_read=%.2f sticky=%.2f lincheck_steps=%" PRIu64,
      o.clients, o.read_only_clients, o.keys, static_cast<double>(o.think_time_max_us) / 1e3,
      static_cast<double>(o.op_timeout_us) / 1e3, static_cast<double>(o.attempt_timeout_us) / 1e3,
      o.read_fraction, o.cas_fraction, o.log_read_fraction, o.sticky_leader_probability,
      o.lincheck_step_budget);
  return out;
}

const char* const* BugNames() {
  static const char* const kNames[] = {"vote_without_log_check", "commit_old_term_by_count",
                                       "vote_before_persist", "lease_read_without_lease", nullptr};
  return kNames;
}

bool EnableBug(const std::string& name, raft::InjectedBugs* bugs) {
  if (name == "vote_without_log_check")
    bugs->vote_without_log_check = true;
  else if (name == "commit_old_term_by_count")
    bugs->commit_old_term_by_count = true;
  else if (name == "vote_before_persist")
    bugs->vote_before_persist = true;
  else if (name == "lease_read_without_lease")
    bugs->lease_read_without_lease = true;
  else
    return false;
  return true;
}

}  // namespace synod::sim
