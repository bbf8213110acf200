#include "sim/simulation.h"

#include <cinttypes>
#include <functional>

#include "lincheck/parse.h"
#include "sim/cluster.h"
#include "sim/faults.h"
#include "sim/hash.h"
#include "sim/history_recorder.h"
#include "sim/membership.h"
#include "sim/workload.h"

namespace synod::sim {
namespace {

constexpr Micros kProbeCheckUs = 20 * kMillis;
constexpr Micros kProbeRetryUs = 200 * kMillis;

uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  Random r(seed ^ (stream * 0xd1b54a32d192ed03ULL));
  return r.Next();
}

// Runs events until `until_us`, the first checker failure, or `done` says so.
void RunUntil(Cluster& cluster, Micros until_us, const std::function<bool()>& done) {
  EventQueue& q = cluster.queue();
  while (!cluster.checker().failed() && !q.empty() && q.next_time() <= until_us) {
    q.RunOne();
    if (done && done()) return;
  }
}

uint64_t HistoryHash(const lincheck::History& h) {
  Hasher hash;
  for (const lincheck::Operation& op : h.ops) {
    hash.Add(op.client);
    hash.Add(op.key);
    hash.Add(static_cast<uint64_t>(op.kind));
    hash.Add(op.value.value_or("\x01"));
    hash.Add(op.expected.value_or("\x01"));
    hash.Add(op.output.value_or("\x01"));
    hash.Add(static_cast<uint64_t>(op.outcome));
    hash.Add(static_cast<uint64_t>(op.call));
    hash.Add(static_cast<uint64_t>(op.ret));
  }
  return hash.value();
}

// How many of `voters` store `index` with `term` (in their log, or under their snapshot).
size_t Holders(Cluster& cluster, const std::vector<raft::NodeId>& voters, raft::LogIndex index,
               raft::Term term) {
  size_t holders = 0;
  for (raft::NodeId v : voters) {
    const raft::MemoryStorage* s = cluster.host(static_cast<uint32_t>(v.value)).storage();
    if (s == nullptr) continue;
    const Result<raft::Term> t = s->TermOf(index);
    if (index < s->FirstIndex() || (t.ok() && t.value() == term)) ++holders;
  }
  return holders;
}

// Durability: the last entry a leader committed by counting replicas is on stable storage
// (log or snapshot) at a majority of the configuration it counted with (both halves of a
// joint one), as Raft's commitment promises (§5.4). Checked once every process runs again.
void CheckCommittedOnQuorum(Cluster& cluster) {
  const auto& qc = cluster.checker().last_quorum_commit();
  if (!qc) return;
  for (const std::vector<raft::NodeId>* voters : {&qc->conf.voters, &qc->conf.voters_outgoing}) {
    if (voters->empty()) continue;
    const size_t holders = Holders(cluster, *voters, qc->index, qc->term);
    if (holders < voters->size() / 2 + 1) {
      cluster.checker().Fail("durability: entry " + std::to_string(qc->index.value) +
                             ", committed by n" + std::to_string(qc->leader.value) +
                             ", is stored by only " + std::to_string(holders) + " of " +
                             std::to_string(voters->size()) + " voters (Raft §5.4)");
      return;
    }
  }
}

// The liveness phase: after healing, propose a probe at the leader until one applies.
Micros RunLiveness(Cluster& cluster, const SimOptions& o) {
  const Micros healed_us = cluster.queue().now();
  const Micros deadline_us = healed_us + o.liveness_bound_us;
  uint64_t probe_id = 0;
  Micros last_proposal_us = -kProbeRetryUs;
  bool committed = false;
  std::function<void()> probe = [&] {
    if (committed) return;
    for (uint32_t s = 1; s <= cluster.nodes(); ++s) {
      if (probe_id > 0 && cluster.host(s).probe_applied() >= probe_id) {
        committed = true;
        return;
      }
    }
    const Micros now = cluster.queue().now();
    if (now - last_proposal_us >= kProbeRetryUs) {
      if (NodeHost* leader = cluster.Leader()) {
        if (leader->ProposeProbe(probe_id + 1)) {
          ++probe_id;
          last_proposal_us = now;
        }
      }
    }
    if (now < deadline_us) cluster.queue().After(kProbeCheckUs, probe);
  };
  probe();
  RunUntil(cluster, deadline_us, [&] { return committed; });
  if (cluster.checker().failed()) return -1;
  if (!committed) {
    cluster.checker().Fail("liveness: no proposal committed within " +
                           std::to_string(o.liveness_bound_us / kSecond) +
                           " s of simulated time after healing every fault");
    return -1;
  }
  CheckCommittedOnQuorum(cluster);
  return cluster.queue().now() - healed_us;
}

}  // namespace

RunResult RunSimulation(const SimOptions& o, FILE* live_trace) {
  RunResult result;
  result.seed = o.seed;
  Cluster cluster(o, live_trace);
  HistoryRecorder recorder;
  Workload workload(&cluster, &recorder, Random(StreamSeed(o.seed, 10)));
  FaultInjector faults(&cluster, Random(StreamSeed(o.seed, 11)));
  MembershipOperator op(&cluster, Random(StreamSeed(o.seed, 12)));
  cluster.on_reply = [&](const ClientReply& r) { workload.OnReply(r); };
  cluster.on_proposed = [&](uint64_t c, uint64_t r) { workload.OnProposed(c, r); };
  cluster.on_vote_granted = [&](raft::NodeId v) { faults.OnVoteGranted(v); };
  cluster.on_became_leader = [&](raft::NodeId l) { faults.OnBecameLeader(l); };

  cluster.StartAll();
  cluster.trace().Note(0, TraceKind::kPhase, 0, "safety phase");
  workload.Start();
  faults.Start();
  op.Start();
  RunUntil(cluster, o.safety_duration_us, nullptr);

  if (!cluster.checker().failed()) {
    faults.Stop();
    op.Stop();
    cluster.trace().Note(cluster.queue().now(), TraceKind::kPhase, 0, "liveness phase");
    faults.HealAll();
    result.liveness_us = RunLiveness(cluster, o);
  }
  if (!cluster.checker().failed()) {
    // Let every client finish or give up, so the history is complete.
    workload.Stop();
    RunUntil(cluster, cluster.queue().now() + 2 * o.op_timeout_us + kSecond,
             [&] { return workload.Idle(); });
  }

  const lincheck::History history = recorder.Build();
  if (!cluster.checker().failed()) {
    lincheck::CheckOptions copt;
    copt.time_budget_seconds = 0;  // deterministic: steps only
    copt.step_budget = o.lincheck_step_budget;
    const lincheck::CheckResult check = lincheck::Check(history, copt);
    result.verdict = check.verdict;
    result.lincheck_steps = check.steps;
    if (check.verdict == lincheck::Verdict::kNotLinearizable) {
      result.history_dump = lincheck::FormatHistory(history);
      cluster.checker().Fail("linearizability: history of key " + check.key +
                             " has no linearization:\n" + check.explanation);
    } else if (check.verdict == lincheck::Verdict::kUnknown) {
      result.warning = "linearizability unknown (search budget ran out): " + check.explanation;
    }
  }

  result.ok = !cluster.checker().failed();
  result.failure = cluster.checker().failure();
  if (!result.ok) result.trace = cluster.trace().Dump();
  result.sim_time_us = cluster.queue().now();
  result.events = cluster.queue().events_run();
  result.messages = cluster.messages_sent();
  result.ops_invoked = recorder.invoked();
  result.ops_ok = recorder.ok();
  result.ops_unknown = recorder.unknown();
  result.commits = cluster.checker().committed_max().value;
  result.faults = faults.faults();
  result.fault_summary = faults.Summary();
  result.lost_nodes = cluster.LostCount();
  result.conf_changes = op.changes_proposed();
  result.transfers = op.transfers();
  result.leaders = cluster.checker().leaders_seen();
  Hasher h;
  h.Add(cluster.StateHash());
  h.Add(HistoryHash(history));
  result.state_hash = h.value();
  return result;
}

std::string SummarizeRun(const RunResult& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "seed=%" PRIu64 " sim_s=%.2f ops=%" PRIu64 " (ok %" PRIu64 ", unknown %" PRIu64
                ") commits=%" PRIu64 " faults=%" PRIu64 " leaders=%" PRIu64 " conf_changes=%" PRIu64
                " lost=%u liveness_ms=%.0f events=%" PRIu64 " msgs=%" PRIu64 " hash=%016" PRIx64
                " lincheck=%s verdict=%s",
                r.seed, static_cast<double>(r.sim_time_us) / 1e6, r.ops_invoked, r.ops_ok,
                r.ops_unknown, r.commits, r.faults, r.leaders, r.conf_changes, r.lost_nodes,
                static_cast<double>(r.liveness_us) / 1e3, r.events, r.messages, r.state_hash,
                lincheck::VerdictName(r.verdict), r.ok ? "PASS" : "FAIL");
  return buf;
}

}  // namespace synod::sim
