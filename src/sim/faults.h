// The fault injector of the safety phase. Each fault kind the seed switched on fires as its own
// Poisson process: crashes (losing unsynced writes, sometimes tearing the last one, sometimes
// with a bit flip in synced data found at restart), pauses, network partitions of every shape
// and clock jumps; and two aimed faults: a crash right after a node grants its vote (the vote
// must already be durable) and a crash of a leader soon after its election (leaders that die
// with a half-replicated log, Raft Figure 8).
//
// Limits: at most (nodes - 1) / 2 nodes are down or paused at once by this injector, and at
// most options.lost_nodes_max nodes ever get a bit flip (a node with a corrupt disk refuses to
// start and is lost for good; Raft survives the loss of a minority, not more).
#pragma once

#include <cstdint>
#include <string>

#include "base/random.h"
#include "sim/cluster.h"

namespace synod::sim {

class FaultInjector {
 public:
  FaultInjector(Cluster* cluster, Random rng);

  void Start();
  // No new faults from now on; scheduled recoveries (restarts, resumes, heals) still happen.
  void Stop() { active_ = false; }
  // The liveness phase: restart every down node that can start, resume paused ones and heal
  // the network.
  void HealAll();
  void OnVoteGranted(raft::NodeId voter);
  void OnBecameLeader(raft::NodeId leader);

  uint64_t faults() const { return crashes_ + pauses_ + partitions_ + jumps_ + flips_; }
  uint32_t flips() const { return flips_; }
  std::string Summary() const;

 private:
  enum class Kind : uint8_t { kCrash, kPause, kPartition, kClockJump };
  void Schedule(Kind kind, double rate_per_s);
  void Fire(Kind kind);
  void Crash();
  void CrashNode(uint32_t slot, Micros restart_after_us);
  void Pause();
  void Partition();
  void ClockJump();
  // The leader with probability leader_target_probability, else a random slot; 0 if none fits.
  uint32_t PickTarget(bool running_only);
  uint32_t Unavailable() const;
  uint32_t UnavailableMax() const { return (cluster_->nodes() - 1) / 2; }
  Micros UniformUs(Micros lo, Micros hi);
  Micros LogUniformUs(Micros lo, Micros hi);

  Cluster* cluster_;
  Random rng_;
  const SimOptions& o_;
  bool active_ = false;
  bool partition_active_ = false;
  uint64_t crashes_ = 0, pauses_ = 0, partitions_ = 0, jumps_ = 0;
  uint32_t flips_ = 0;
  uint64_t vote_crashes_ = 0;
  uint64_t leader_crashes_ = 0;
};

}  // namespace synod::sim
