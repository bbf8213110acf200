#include "sim/faults.h"

#include <cmath>

namespace synod::sim {

FaultInjector::FaultInjector(Cluster* cluster, Random rng)
    : cluster_(cluster), rng_(rng), o_(cluster->options()) {}

Micros FaultInjector::UniformUs(Micros lo, Micros hi) {
  if (hi <= lo) return lo;
  return lo + static_cast<Micros>(rng_.Uniform(static_cast<uint64_t>(hi - lo) + 1));
}

Micros FaultInjector::LogUniformUs(Micros lo, Micros hi) {
  // Every order of magnitude equally likely: short faults are common, long ones still happen,
  // and the durations around an election timeout (where leases and check-quorum race) are
  // well covered.
  if (hi <= lo) return lo;
  const double l = std::log(static_cast<double>(lo)), h = std::log(static_cast<double>(hi));
  return static_cast<Micros>(std::exp(l + (h - l) * rng_.NextDouble()));
}

void FaultInjector::Start() {
  active_ = true;
  Schedule(Kind::kCrash, o_.crash_rate_per_s);
  Schedule(Kind::kPause, o_.pause_rate_per_s);
  Schedule(Kind::kPartition, o_.partition_rate_per_s);
  Schedule(Kind::kClockJump, o_.clock_jump_rate_per_s);
}

void FaultInjector::Schedule(Kind kind, double rate_per_s) {
  if (rate_per_s <= 0) return;
  // Exponential inter-arrival times: a Poisson process.
  const double wait_s = -std::log(1.0 - rng_.NextDouble()) / rate_per_s;
  const Micros delay = static_cast<Micros>(wait_s * 1e6) + 1;
  cluster_->queue().After(delay, [this, kind, rate_per_s] {
    if (!active_) return;
    Fire(kind);
    Schedule(kind, rate_per_s);
  });
}

void FaultInjector::Fire(Kind kind) {
  switch (kind) {
    case Kind::kCrash:
      Crash();
      break;
    case Kind::kPause:
      Pause();
      break;
    case Kind::kPartition:
      Partition();
      break;
    case Kind::kClockJump:
      ClockJump();
      break;
  }
}

uint32_t FaultInjector::Unavailable() const {
  uint32_t n = 0;
  for (uint32_t s = 1; s <= cluster_->nodes(); ++s) n += cluster_->host(s).running() ? 0 : 1;
  return n;
}

uint32_t FaultInjector::PickTarget(bool running_only) {
  if (rng_.Chance(o_.leader_target_probability)) {
    if (NodeHost* leader = cluster_->Leader()) return static_cast<uint32_t>(leader->id().value);
  }
  // A few tries at a random slot in the wanted state.
  for (int i = 0; i < 8; ++i) {
    const uint32_t s = static_cast<uint32_t>(rng_.Between(1, cluster_->nodes()));
    const NodeHost& h = cluster_->host(s);
    if (running_only ? h.running() : h.is_up()) return s;
  }
  return 0;
}

void FaultInjector::Crash() {
  const uint32_t s = PickTarget(/*running_only=*/false);
  if (s == 0) return;
  if (cluster_->host(s).running() && Unavailable() >= UnavailableMax()) return;
  CrashNode(s, LogUniformUs(kMillis, o_.restart_delay_max_us));
}

void FaultInjector::CrashNode(uint32_t slot, Micros restart_after_us) {
  ++crashes_;
  cluster_->Crash(slot, rng_);
  if (flips_ < o_.lost_nodes_max && o_.bit_flip_probability > 0 &&
      rng_.Chance(o_.bit_flip_probability)) {
    // Media damage found at the next start: the node must refuse to run on it.
    if (cluster_->host(slot).FlipBit(rng_)) ++flips_;
  }
  cluster_->queue().After(restart_after_us, [this, slot] { (void)cluster_->Restart(slot); });
}

void FaultInjector::OnVoteGranted(raft::NodeId voter) {
  if (!active_ || o_.crash_after_vote_probability <= 0) return;
  if (!rng_.Chance(o_.crash_after_vote_probability)) return;
  const uint32_t slot = static_cast<uint32_t>(voter.value);
  // Never synchronously: the host is in the middle of sending its Ready's messages.
  const Micros after = UniformUs(0, 500);
  const Micros restart = UniformUs(kMillis, 2 * o_.election_timeout_ticks * o_.tick_interval_us);
  cluster_->queue().After(after, [this, slot, restart] {
    if (!active_ || !cluster_->host(slot).running() || Unavailable() >= UnavailableMax()) return;
    ++vote_crashes_;
    CrashNode(slot, restart);
  });
}

void FaultInjector::OnBecameLeader(raft::NodeId leader) {
  if (!active_ || o_.crash_new_leader_probability <= 0) return;
  if (!rng_.Chance(o_.crash_new_leader_probability)) return;
  const uint32_t slot = static_cast<uint32_t>(leader.value);
  const Micros after = UniformUs(0, o_.crash_new_leader_delay_max_us);
  const Micros restart = UniformUs(kMillis, 4 * o_.election_timeout_ticks * o_.tick_interval_us);
  cluster_->queue().After(after, [this, slot, restart] {
    if (!active_ || !cluster_->host(slot).running() || Unavailable() >= UnavailableMax()) return;
    ++leader_crashes_;
    CrashNode(slot, restart);
  });
}

void FaultInjector::Pause() {
  const uint32_t s = PickTarget(/*running_only=*/true);
  if (s == 0 || Unavailable() >= UnavailableMax()) return;
  ++pauses_;
  cluster_->host(s).Pause();
  cluster_->queue().After(LogUniformUs(kMillis, o_.pause_duration_max_us),
                          [this, s] { cluster_->host(s).Resume(); });
}

void FaultInjector::Partition() {
  if (partition_active_) return;
  Network& net = cluster_->network();
  const uint32_t n = cluster_->nodes();
  if (n < 2) return;
  uint32_t target = PickTarget(/*running_only=*/false);
  if (target == 0) target = static_cast<uint32_t>(rng_.Between(1, n));
  uint64_t side = 0;
  for (uint32_t s = 1; s <= n; ++s) side |= rng_.Chance(0.5) ? (uint64_t{1} << s) : 0;
  // Isolating the leader is the partition that deposes leaders (and races its lease against
  // the next election), so it gets half of the partitions; the rest cover every other shape.
  NodeHost* leader = cluster_->Leader();
  const uint64_t kind = leader != nullptr && rng_.Chance(0.5) ? 1 : rng_.Uniform(6);
  if (kind == 1 && leader != nullptr) target = static_cast<uint32_t>(leader->id().value);
  switch (kind) {
    case 0:
      net.SplitSymmetric(side);
      break;
    case 1: {
      // Alone, or (with five or more slots) with one companion that keeps following it.
      uint64_t minority = uint64_t{1} << target;
      if (n >= 5 && rng_.Chance(0.5)) {
        const uint32_t companion = static_cast<uint32_t>(rng_.Between(1, n));
        minority |= uint64_t{1} << companion;
      }
      net.SplitSymmetric(minority);  // cut off both ways
      break;
    }
    case 2:
      net.IsolateInbound(target);  // hears nothing
      break;
    case 3:
      net.IsolateOutbound(target);  // is heard by nobody
      break;
    case 4: {
      const uint64_t cuts = rng_.Between(1, 4);
      for (uint64_t i = 0; i < cuts; ++i) {
        net.SetLink(static_cast<uint32_t>(rng_.Between(1, n)),
                    static_cast<uint32_t>(rng_.Between(1, n)), false);
      }
      break;
    }
    default:
      net.SplitWithBridge(side, target);
      break;
  }
  if (!net.AnyCut()) return;
  ++partitions_;
  partition_active_ = true;
  cluster_->trace().Note(cluster_->queue().now(), TraceKind::kPartition, 0, net.DescribeCuts());
  cluster_->queue().After(LogUniformUs(10 * kMillis, o_.partition_duration_max_us), [this] {
    cluster_->network().HealAll();
    partition_active_ = false;
    cluster_->trace().Note(cluster_->queue().now(), TraceKind::kHeal, 0, "");
  });
}

void FaultInjector::ClockJump() {
  const uint32_t s = static_cast<uint32_t>(rng_.Between(1, cluster_->nodes()));
  ++jumps_;
  cluster_->host(s).JumpClock(UniformUs(kMillis, o_.clock_jump_max_us));
}

void FaultInjector::HealAll() {
  active_ = false;
  cluster_->network().HealAll();
  cluster_->trace().Note(cluster_->queue().now(), TraceKind::kHeal, 0,
                         "everything (liveness phase)");
  for (uint32_t s = 1; s <= cluster_->nodes(); ++s) {
    NodeHost& h = cluster_->host(s);
    if (h.state() == ProcessState::kPaused) h.Resume();
    if (h.state() == ProcessState::kDown) (void)cluster_->Restart(s);
  }
}

std::string FaultInjector::Summary() const {
  return "crashes=" + std::to_string(crashes_) + " (after vote " + std::to_string(vote_crashes_) +
         ", new leader " + std::to_string(leader_crashes_) + ") pauses=" + std::to_string(pauses_) +
         " partitions=" + std::to_string(partitions_) + " clock_jumps=" + std::to_string(jumps_) +
         " bit_flips=" + std::to_string(flips_);
}

}  // namespace synod::sim
