// Everything a simulation run depends on, drawn from its seed. Each fault kind is switched on
// or off per seed and gets its own rates and durations (swarm testing: a run with few fault
// kinds explores them more deeply than a run with all of them at once). The CLI can pin a few
// options (node count, duration, injected bug); everything else comes from the seed.
#pragma once

#include <cstdint>
#include <string>

#include "raft/config.h"
#include "sim/network.h"
#include "sim/time.h"

namespace synod::sim {

struct SimOptions {
  uint64_t seed = 0;

  // Cluster.
  uint32_t nodes = 5;  // slots; the first initial_voters form the first config
  uint32_t initial_voters = 3;
  Micros safety_duration_us = 20 * kSecond;  // faults on
  Micros liveness_bound_us = 10 * kSecond;   // after healing, a proposal must commit by then

  // Raft (also see raft::Config).
  uint32_t election_timeout_ticks = 10;
  uint32_t heartbeat_interval_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  bool forward_proposals = false;  // followers forward proposals to the leader
  raft::ReadMode read_mode = raft::ReadMode::kReadIndex;
  uint32_t lease_drift_ticks = 2;
  raft::InjectedBugs bugs;
  Micros tick_interval_us = 10 * kMillis;
  uint64_t snapshot_interval_entries = 200;
  uint64_t compaction_keep_entries = 20;
  // Bytes of entries per append message; 1 sends one entry per message, so a new leader
  // re-replicates a long tail in many steps.
  uint64_t append_bytes_max = 4096;
  // Flow-control limits, small in some seeds so the paths that hit them run.
  uint32_t inflight_msgs_max = 16;
  uint64_t uncommitted_bytes_max = 64 << 20;
  uint64_t apply_bytes_max = 64 << 20;

  // Clocks.
  int64_t clock_drift_ppm_max = 100;  // each node's drift is uniform in [-max, +max]
  double clock_jump_rate_per_s = 0;   // only with ReadIndex reads (see clock.h)
  Micros clock_jump_max_us = 0;

  // Network.
  NetworkOptions network;
  Micros client_latency_max_us = 2 * kMillis;
  double partition_rate_per_s = 0;
  Micros partition_duration_max_us = 0;

  // Disk.
  Micros sync_latency_min_us = 100;
  Micros sync_latency_max_us = 2 * kMillis;
  double unsynced_survive_probability = 0.5;  // at a crash, some unsynced bytes reach the disk
  double bit_flip_probability = 0;            // per crash; at most one node is ever lost
  uint32_t lost_nodes_max = 1;

  // Processes.
  double crash_rate_per_s = 0;
  Micros restart_delay_max_us = 0;
  double crash_after_vote_probability = 0;  // a voter dies right after granting its vote
  double crash_new_leader_probability = 0;  // a new leader dies soon after its election
  Micros crash_new_leader_delay_max_us = 0;
  double pause_rate_per_s = 0;
  Micros pause_duration_max_us = 0;
  double leader_target_probability = 0.5;  // faults aimed at the current leader
  // Scales every fault rate above: from storms to a few faults in a quiet cluster, where
  // protocol races (a deposed leader, a half-replicated log) play out undisturbed.
  double fault_intensity = 1.0;

  // Membership and leadership.
  double conf_change_rate_per_s = 0;
  double transfer_rate_per_s = 0;

  // Workload.
  uint32_t clients = 4;
  uint32_t keys = 3;
  uint32_t read_only_clients = 0;  // the first clients only read
  Micros think_time_max_us = 20 * kMillis;
  Micros op_timeout_us = 1 * kSecond;
  Micros attempt_timeout_us = 300 * kMillis;
  double read_fraction = 0.4;
  double cas_fraction = 0.2;
  double log_read_fraction = 0.2;  // of reads: proposed through the log instead of ReadIndex
  double sticky_leader_probability = 0.9;  // send to the last known leader, else anywhere

  // Checkers.
  uint64_t lincheck_step_budget = 20'000'000;
};

// Overrides from the command line; unset fields come from the seed.
struct OptionOverrides {
  uint32_t nodes = 5;
  double duration_s = 0;  // 0: default
  raft::InjectedBugs bugs;
};

SimOptions DeriveOptions(uint64_t seed, const OptionOverrides& overrides);
// All options, as `name=value` pairs over a few lines, for the top of a run's output.
std::string DescribeOptions(const SimOptions& o);
// Parses a bug name (e.g. "vote_before_persist") into the field it switches on.
bool EnableBug(const std::string& name, raft::InjectedBugs* bugs);
const char* const* BugNames();  // null-terminated

}  // namespace synod::sim
