#include "sim/workload.h"

#include "base/assert.h"

namespace synod::sim {

using lincheck::OpKind;

Workload::Workload(Cluster* cluster, HistoryRecorder* recorder, Random rng)
    : cluster_(cluster), recorder_(recorder), rng_(rng), o_(cluster->options()) {
  for (uint32_t i = 1; i <= o_.clients; ++i) {
    Client c;
    c.id = i;
    clients_.push_back(std::move(c));
  }
}

Workload::Client& Workload::client(uint64_t id) {
  SYNOD_ASSERT(id >= 1 && id <= clients_.size(), "unknown client");
  return clients_[id - 1];
}

void Workload::Start() {
  for (Client& c : clients_) ScheduleNext(c);
}

bool Workload::Idle() const {
  for (const Client& c : clients_) {
    if (c.busy) return false;
  }
  return true;
}

void Workload::ScheduleNext(Client& c) {
  const Micros think =
      static_cast<Micros>(rng_.Uniform(static_cast<uint64_t>(o_.think_time_max_us) + 1));
  const uint64_t id = c.id;
  cluster_->queue().After(think, [this, id] {
    Client& cl = client(id);
    if (!stopped_ && !cl.busy) NextOp(cl);
  });
}

void Workload::NextOp(Client& c) {
  const Micros now = cluster_->queue().now();
  ClientRequest req;
  req.client = c.id;
  req.request = c.req.request + 1;
  req.key = "k" + std::to_string(rng_.Uniform(o_.keys));
  lincheck::Operation op;
  op.client = c.id;
  op.key = req.key;
  op.call = now;
  // Clients 1..read_only_clients only read, through ReadIndex (dashboards, caches): they stay
  // with a node as long as it answers, which a deposed leader serving stale reads exploits.
  const bool read_only = c.id <= o_.read_only_clients;
  const double roll = read_only ? 0.0 : rng_.NextDouble();
  if (roll < o_.read_fraction) {
    req.kind = RequestKind::kGet;
    req.read_via_log = !read_only && rng_.Chance(o_.log_read_fraction);
    op.kind = OpKind::kRead;
  } else {
    // Unique values make a wrong read easy to pin on one write.
    req.value = "c" + std::to_string(c.id) + "." + std::to_string(req.request);
    op.value = req.value;
    if (roll < o_.read_fraction + o_.cas_fraction) {
      req.kind = RequestKind::kCas;
      op.kind = OpKind::kCas;
      // Mostly what this client last saw (often current), sometimes any recent value.
      auto seen = c.last_seen.find(req.key);
      if (seen != c.last_seen.end() && rng_.Chance(0.7)) {
        req.expected = seen->second;
      } else if (!written_.empty() && rng_.Chance(0.8)) {
        req.expected = written_[rng_.Uniform(written_.size())];
      }
      op.expected = req.expected;
    } else {
      req.kind = RequestKind::kPut;
      op.kind = OpKind::kWrite;
    }
    written_.push_back(req.value);
    if (written_.size() > 32) written_.erase(written_.begin());
  }
  c.req = std::move(req);
  c.busy = true;
  c.proposed = false;
  c.deadline_us = now + o_.op_timeout_us;
  c.req.deadline_us = c.deadline_us;
  c.req.attempt = 0;
  c.op = recorder_->Invoke(std::move(op));
  SendAttempt(c);
}

void Workload::SendAttempt(Client& c) {
  const uint32_t n = cluster_->nodes();
  uint32_t target = static_cast<uint32_t>(rng_.Between(1, n));
  if (c.leader_hint != raft::kNoNode && rng_.Chance(o_.sticky_leader_probability)) {
    target = static_cast<uint32_t>(c.leader_hint.value);
  }
  ++c.req.attempt;
  TraceEvent ev;
  ev.time_us = cluster_->queue().now();
  ev.kind = TraceKind::kClientCall;
  ev.node = target;
  ev.a = c.id;
  ev.b = c.req.request;
  ev.text =
      c.req.kind == RequestKind::kGet ? "get " + c.req.key + (c.req.read_via_log ? " (log)" : "")
      : c.req.kind == RequestKind::kPut
          ? "put " + c.req.key + "=" + c.req.value
          : "cas " + c.req.key + " " + c.req.expected.value_or("<absent>") + "->" + c.req.value;
  cluster_->trace().Add(std::move(ev));
  cluster_->SendClientRequest(target, c.req);
  const Micros timeout = std::min(o_.attempt_timeout_us, c.deadline_us - cluster_->queue().now());
  const uint64_t id = c.id, request = c.req.request;
  const uint32_t attempt = c.req.attempt;
  cluster_->queue().After(std::max<Micros>(timeout, 0),
                          [this, id, request, attempt] { OnAttemptTimeout(id, request, attempt); });
}

void Workload::OnAttemptTimeout(uint64_t id, uint64_t request, uint32_t attempt) {
  Client& c = client(id);
  if (!c.busy || c.req.request != request || c.req.attempt != attempt) return;
  c.leader_hint = raft::kNoNode;
  Retry(c, /*keep_hint=*/false);
}

void Workload::Retry(Client& c, bool keep_hint) {
  const Micros now = cluster_->queue().now();
  if (now >= c.deadline_us) {
    GiveUp(c);
    return;
  }
  // A short pause when a node said "not leader" without knowing better, so a client does not
  // spin while an election runs.
  const Micros backoff = keep_hint ? 0 : static_cast<Micros>(rng_.Between(1000, 20000));
  const uint64_t id = c.id, request = c.req.request;
  const uint32_t attempt = c.req.attempt;
  cluster_->queue().After(std::min(backoff, c.deadline_us - now), [this, id, request, attempt] {
    Client& cl = client(id);
    if (!cl.busy || cl.req.request != request || cl.req.attempt != attempt) return;
    if (cluster_->queue().now() >= cl.deadline_us) {
      GiveUp(cl);
      return;
    }
    SendAttempt(cl);
  });
}

void Workload::GiveUp(Client& c) {
  // A read has no effect; a write never proposed by its deadline never will be (nodes refuse
  // expired requests). Either can leave the history. A proposed write may still apply.
  if (c.req.kind == RequestKind::kGet || !c.proposed) {
    recorder_->Drop(c.op);
  } else {
    recorder_->Unknown(c.op);
  }
  ++gave_up_;
  c.busy = false;
  TraceEvent ev;
  ev.time_us = cluster_->queue().now();
  ev.kind = TraceKind::kClientReturn;
  ev.a = c.id;
  ev.b = c.req.request;
  ev.text = c.proposed && c.req.kind != RequestKind::kGet ? "timeout (unknown)" : "timeout";
  cluster_->trace().Add(std::move(ev));
  ScheduleNext(c);
}

void Workload::OnProposed(uint64_t id, uint64_t request) {
  if (id == 0) return;  // the liveness probe
  Client& c = client(id);
  if (c.busy && c.req.request == request) c.proposed = true;
}

void Workload::OnReply(const ClientReply& reply) {
  Client& c = client(reply.client);
  if (!c.busy || reply.request != c.req.request) return;  // an answer to a finished operation
  const Micros now = cluster_->queue().now();
  if (reply.status != ReplyStatus::kOk) {
    if (reply.attempt != c.req.attempt) return;  // an earlier attempt's refusal
    c.leader_hint = reply.leader_hint;
    Retry(c, /*keep_hint=*/reply.leader_hint != raft::kNoNode &&
                 reply.leader_hint.value != reply.node);
    return;
  }
  TraceEvent ev;
  ev.time_us = now;
  ev.kind = TraceKind::kClientReturn;
  ev.node = reply.node;
  ev.a = c.id;
  ev.b = c.req.request;
  switch (c.req.kind) {
    case RequestKind::kGet:
      recorder_->Ok(c.op, now, reply.result.value);
      c.last_seen[c.req.key] = reply.result.value;
      ev.text = "ok " + reply.result.value.value_or("<absent>");
      break;
    case RequestKind::kPut:
      recorder_->Ok(c.op, now, std::nullopt);
      c.last_seen[c.req.key] = c.req.value;
      ev.text = "ok";
      break;
    case RequestKind::kCas:
      if (reply.result.cas_succeeded) {
        recorder_->Ok(c.op, now, std::nullopt);
        c.last_seen[c.req.key] = c.req.value;
        ev.text = "ok";
      } else {
        recorder_->CasFailed(c.op, now);
        ev.text = "cas failed";
      }
      break;
  }
  cluster_->trace().Add(std::move(ev));
  c.leader_hint = raft::NodeId(reply.node);
  c.busy = false;
  ++completed_;
  ScheduleNext(c);
}

}  // namespace synod::sim
