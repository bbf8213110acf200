#include "sim/cluster.h"

#include "sim/hash.h"

namespace synod::sim {

using raft::NodeId;

namespace {

// Independent streams per component, all from the run's seed.
uint64_t SubSeed(uint64_t seed, uint64_t stream) {
  Random r(seed * 0x9e3779b97f4a7c15ULL + stream);
  return r.Next();
}

HostOptions MakeHostOptions(const SimOptions& o) {
  HostOptions h;
  h.raft.election_timeout_ticks = o.election_timeout_ticks;
  h.raft.heartbeat_interval_ticks = o.heartbeat_interval_ticks;
  h.raft.pre_vote = o.pre_vote;
  h.raft.check_quorum = o.check_quorum;
  h.raft.forward_proposals = o.forward_proposals;
  h.raft.read_mode = o.read_mode;
  h.raft.lease_drift_ticks = o.lease_drift_ticks;
  h.raft.bugs = o.bugs;
  // Batch sizes and flow-control limits vary per seed (see options.cc).
  h.raft.append_bytes_max = o.append_bytes_max;
  h.raft.inflight_msgs_max = o.inflight_msgs_max;
  h.raft.uncommitted_bytes_max = o.uncommitted_bytes_max;
  h.raft.apply_bytes_max = o.apply_bytes_max;
  h.tick_interval_us = o.tick_interval_us;
  h.sync_latency_min_us = o.sync_latency_min_us;
  h.sync_latency_max_us = o.sync_latency_max_us;
  h.snapshot_interval_entries = o.snapshot_interval_entries;
  h.compaction_keep_entries = o.compaction_keep_entries;
  return h;
}

}  // namespace

Cluster::Cluster(const SimOptions& options, FILE* live_trace)
    : options_(options),
      rng_(SubSeed(options.seed, 1)),
      queue_(kPendingEventsMax),
      trace_(kTraceKeep),
      network_(options.nodes, options.network, Random(SubSeed(options.seed, 2))) {
  trace_.set_live(live_trace);
  Random clocks(SubSeed(options.seed, 3));
  const HostOptions host_options = MakeHostOptions(options);
  for (uint32_t slot = 1; slot <= options.nodes; ++slot) {
    HostWorld world;
    world.queue = &queue_;
    world.trace = &trace_;
    world.checker = &checker_;
    world.send = [this](raft::Message m) { SendRaft(std::move(m)); };
    world.reply = [this](const ClientReply& r) { SendClientReply(r); };
    world.proposed = [this](uint64_t c, uint64_t r) {
      if (on_proposed) on_proposed(c, r);
    };
    world.vote_granted = [this](NodeId voter) {
      if (on_vote_granted) on_vote_granted(voter);
    };
    world.became_leader = [this](NodeId leader) {
      if (on_became_leader) on_became_leader(leader);
    };
    const int64_t max = options.clock_drift_ppm_max;
    const int64_t drift =
        static_cast<int64_t>(clocks.Uniform(static_cast<uint64_t>(2 * max + 1))) - max;
    LocalClock clock(static_cast<Micros>(clocks.Uniform(kSecond)), drift);
    hosts_.push_back(std::make_unique<NodeHost>(NodeId(slot), host_options, std::move(world), clock,
                                                SubSeed(options.seed, 100 + slot)));
  }
}

Cluster::~Cluster() = default;

NodeHost& Cluster::host(uint32_t slot) {
  SYNOD_ASSERT(slot >= 1 && slot <= hosts_.size(), "slot out of range");
  return *hosts_[slot - 1];
}

const NodeHost& Cluster::host(uint32_t slot) const {
  SYNOD_ASSERT(slot >= 1 && slot <= hosts_.size(), "slot out of range");
  return *hosts_[slot - 1];
}

void Cluster::StartAll() {
  raft::ConfState conf;
  for (uint32_t slot = 1; slot <= options_.initial_voters; ++slot)
    conf.voters.push_back(NodeId(slot));
  for (uint32_t slot = 1; slot <= options_.initial_voters; ++slot) host(slot).Bootstrap(conf);
  for (uint32_t slot = 1; slot <= options_.nodes; ++slot) {
    const Status s = host(slot).Start();
    SYNOD_ASSERT(s.ok(), "a fresh node failed to start");
  }
}

void Cluster::SendRaft(raft::Message m) {
  ++messages_sent_;
  const auto from = static_cast<uint32_t>(m.from.value), to = static_cast<uint32_t>(m.to.value);
  SYNOD_ASSERT(to >= 1 && to <= options_.nodes, "message to a slot that does not exist");
  trace_.Message(TraceKind::kSend, queue_.now(), m);
  const SendPlan plan = network_.Plan(from, to);
  auto shared = std::make_shared<const InFlightMessage>(
      InFlightMessage{std::move(m), host(from).incarnation()});
  if (plan.copies == 0) {
    trace_.Message(TraceKind::kDrop, queue_.now(), shared->msg);
    ReportToSender(*shared, /*delivered=*/false);
    return;
  }
  for (int i = 0; i < plan.copies; ++i) {
    queue_.After(plan.delays_us[i], [this, shared] { DeliverRaft(shared); });
  }
}

void Cluster::DeliverRaft(const std::shared_ptr<const InFlightMessage>& in_flight) {
  const raft::Message& m = in_flight->msg;
  const auto from = static_cast<uint32_t>(m.from.value), to = static_cast<uint32_t>(m.to.value);
  bool delivered = false;
  if (network_.LinkUp(from, to)) {  // else cut while in flight
    trace_.Message(TraceKind::kDeliver, queue_.now(), m);
    delivered = host(to).Deliver(m);
  }
  if (delivered) {
    ++messages_delivered_;
  } else {
    trace_.Message(TraceKind::kDrop, queue_.now(), m);
  }
  ReportToSender(*in_flight, delivered);
}

void Cluster::ReportToSender(const InFlightMessage& m, bool delivered) {
  // Only what a real transport would notice: snapshot streams, and broken connections.
  if (m.msg.type != raft::MessageType::kSnapshot && delivered) return;
  const auto from = static_cast<uint32_t>(m.msg.from.value);
  const uint64_t incarnation = m.sender_incarnation;
  const raft::NodeId to = m.msg.to;
  const raft::MessageType type = m.msg.type;
  queue_.After(network_.SampleLatency(), [this, from, incarnation, to, type, delivered] {
    host(from).ReportDelivery(incarnation, to, type, delivered);
  });
}

Micros Cluster::ClientLatency() {
  return 50 +
         static_cast<Micros>(rng_.Uniform(static_cast<uint64_t>(options_.client_latency_max_us)));
}

void Cluster::SendClientRequest(uint32_t slot, ClientRequest req) {
  queue_.After(ClientLatency(),
               [this, slot, req = std::move(req)] { host(slot).HandleClient(req); });
}

void Cluster::SendClientReply(const ClientReply& reply) {
  queue_.After(ClientLatency(), [this, reply] {
    if (on_reply) on_reply(reply);
  });
}

void Cluster::Crash(uint32_t slot, Random& rng) {
  host(slot).Crash(rng, options_.unsynced_survive_probability);
}

bool Cluster::Restart(uint32_t slot) {
  NodeHost& h = host(slot);
  if (h.state() != ProcessState::kDown) return h.is_up();
  return h.Start().ok();
}

NodeHost* Cluster::Leader() {
  NodeHost* best = nullptr;
  for (auto& h : hosts_) {
    if (h->running() && h->IsLeader() && (best == nullptr || h->term() > best->term())) {
      best = h.get();
    }
  }
  return best;
}

uint32_t Cluster::LostCount() const {
  uint32_t n = 0;
  for (const auto& h : hosts_) n += h->lost() ? 1 : 0;
  return n;
}

uint64_t Cluster::StateHash() const {
  Hasher h;
  h.Add(queue_.now());
  h.Add(queue_.events_run());
  for (const auto& host : hosts_) {
    h.Add(static_cast<uint64_t>(host->state()));
    h.Add(host->applied().value);
    h.Add(host->kv().Hash());
    h.Add(host->disk().durable_bytes());
    h.Add(HashBytes(host->disk().bytes()));
    if (const raft::MemoryStorage* s = host->storage()) {
      h.Add(s->LastIndex().value);
      h.Add(s->hard_state().term.value);
      h.Add(s->hard_state().commit.value);
    }
  }
  return h.value();
}

}  // namespace synod::sim
