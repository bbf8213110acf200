// NodeHost: process lifecycle, inputs and the tick driver. The Ready cycle is in
// host_ready.cc and recovery from disk in host_recovery.cc.
#include "sim/host.h"

#include "base/assert.h"

namespace synod::sim {

using raft::NodeId;

NodeHost::NodeHost(NodeId id, HostOptions options, HostWorld world, LocalClock clock, uint64_t seed)
    : id_(id),
      options_(std::move(options)),
      world_(std::move(world)),
      clock_(clock),
      rng_(seed),
      ticks_(options_.tick_interval_us) {
  SYNOD_ASSERT(id != raft::kNoNode, "a host needs a node id");
  SYNOD_ASSERT(world_.queue && world_.trace && world_.checker && world_.send && world_.reply,
               "host world incomplete");
  SYNOD_ASSERT(options_.sync_latency_min_us <= options_.sync_latency_max_us, "sync latency");
}

NodeHost::~NodeHost() {
  ResetVolatile();
}

void NodeHost::ResetVolatile() {
  raw_.reset();  // before storage_, which it reads
  storage_.reset();
  kv_ = KvStateMachine();
  applied_ = raft::LogIndex(0);
  conf_ = raft::ConfState();
  in_flight_.reset();
  paused_inbox_.clear();
  pending_writes_.clear();
  pending_reads_.clear();
  reads_awaiting_apply_.clear();
}

bool NodeHost::IsLeader() const {
  return raw_ != nullptr && raw_->role() == raft::Role::kLeader;
}
raft::Term NodeHost::term() const {
  return raw_ ? raw_->term() : raft::Term(0);
}
NodeId NodeHost::leader() const {
  return raw_ ? raw_->leader() : raft::kNoNode;
}

void NodeHost::Crash(Random& rng, double unsynced_survive_probability) {
  if (!is_up()) return;
  const CrashReport report = disk_.Crash(rng, unsynced_survive_probability);
  TraceEvent ev;
  ev.time_us = world_.queue->now();
  ev.kind = TraceKind::kCrash;
  ev.node = static_cast<uint32_t>(id_.value);
  ev.a = report.lost_bytes;
  ev.flag = report.torn;
  world_.trace->Add(std::move(ev));
  state_ = ProcessState::kDown;
  ++incarnation_;  // invalidates pending sync completions
  ++tick_generation_;
  ResetVolatile();
}

void NodeHost::Pause() {
  if (state_ != ProcessState::kRunning) return;
  state_ = ProcessState::kPaused;
  world_.trace->Note(world_.queue->now(), TraceKind::kPause, static_cast<uint32_t>(id_.value), "");
}

void NodeHost::Resume() {
  if (state_ != ProcessState::kPaused) return;
  state_ = ProcessState::kRunning;
  world_.trace->Note(world_.queue->now(), TraceKind::kResume, static_cast<uint32_t>(id_.value),
                     "(" + std::to_string(paused_inbox_.size()) + " queued inputs)");
  // Ticks first: a real driver reading its monotonic clock sees the whole pause at once.
  CatchUpTicks();
  while (!paused_inbox_.empty() && running()) {
    std::function<void()> fn = std::move(paused_inbox_.front());
    paused_inbox_.pop_front();
    fn();
    Drive();
    AfterEvent();
  }
  if (running()) ScheduleTick();
}

void NodeHost::JumpClock(Micros delta_us) {
  clock_.JumpForward(delta_us);
  TraceEvent ev;
  ev.time_us = world_.queue->now();
  ev.kind = TraceKind::kClockJump;
  ev.node = static_cast<uint32_t>(id_.value);
  ev.a = static_cast<uint64_t>(delta_us);
  world_.trace->Add(std::move(ev));
  if (!running()) return;  // paused: caught up on resume; down: restart reads the clock
  CatchUpTicks();
  Drive();
  AfterEvent();
  ScheduleTick();
}

bool NodeHost::FlipBit(Random& rng) {
  if (!disk_.FlipBit(rng)) return false;
  disk_damaged_ = true;
  world_.trace->Note(world_.queue->now(), TraceKind::kBitFlip, static_cast<uint32_t>(id_.value),
                     "(synced data damaged)");
  return true;
}

bool NodeHost::Input(std::function<void()> fn) {
  switch (state_) {
    case ProcessState::kDown:
    case ProcessState::kLost:
      return false;
    case ProcessState::kPaused:
      if (paused_inbox_.size() >= options_.paused_inbox_max) return false;
      paused_inbox_.push_back(std::move(fn));
      return true;
    case ProcessState::kRunning:
      CatchUpTicks();
      fn();
      if (running()) {
        Drive();
        AfterEvent();
      }
      return true;
  }
  SYNOD_UNREACHABLE("process state");
}

void NodeHost::CatchUpTicks() {
  const uint64_t due = ticks_.Due(clock_.Now(world_.queue->now()));
  SYNOD_ASSERT(due < 10'000'000, "absurd number of missed ticks");
  for (uint64_t i = 0; i < due; ++i) raw_->Tick();
  ticks_.Consume(due);
}

void NodeHost::ScheduleTick() {
  const uint64_t generation = ++tick_generation_;
  const Micros at = clock_.SimTimeWhen(ticks_.NextTickLocal(), world_.queue->now());
  world_.queue->At(at, [this, generation] { OnTickTimer(generation); });
}

void NodeHost::OnTickTimer(uint64_t generation) {
  if (generation != tick_generation_ || !running()) return;  // superseded, paused or down
  CatchUpTicks();
  Drive();
  AfterEvent();
  ScheduleTick();
}

bool NodeHost::Deliver(raft::Message m) {
  if (state_ == ProcessState::kRunning) {  // the hot path, without a closure
    CatchUpTicks();
    const Status s = raw_->Step(m);
    if (!s.ok())
      world_.trace->Note(world_.queue->now(), TraceKind::kNote, static_cast<uint32_t>(id_.value),
                         "step: " + s.ToString());
    Drive();
    AfterEvent();
    return true;
  }
  return Input([this, m = std::move(m)] {
    const Status s = raw_->Step(m);
    if (!s.ok())
      world_.trace->Note(world_.queue->now(), TraceKind::kNote, static_cast<uint32_t>(id_.value),
                         "step: " + s.ToString());
  });
}

void NodeHost::ReportDelivery(uint64_t incarnation, NodeId to, raft::MessageType type,
                              bool delivered) {
  if (incarnation != incarnation_) return;  // sent by a process that has since crashed
  if (type != raft::MessageType::kSnapshot && delivered) return;
  Input([this, to, type, delivered] {
    if (type == raft::MessageType::kSnapshot) raw_->ReportSnapshot(to, delivered);
    if (!delivered) raw_->ReportUnreachable(to);
  });
}

void NodeHost::HandleClient(ClientRequest req) {
  Input([this, req = std::move(req)] { HandleClientNow(req); });
}

raft::ProposeResult NodeHost::ProposeConfChange(const raft::ConfChange& cc) {
  raft::ProposeResult r{.code = ErrorCode::kUnavailable};
  if (!running()) return r;
  Input([&] { r = raw_->ProposeConfChange(cc); });
  return r;
}

void NodeHost::TransferLeadership(NodeId target) {
  if (!running()) return;
  Input([&] { raw_->TransferLeadership(target); });
}

bool NodeHost::ProposeProbe(uint64_t probe_id) {
  if (!running()) return false;
  bool ok = false;
  Input([&] {
    Command cmd{.kind = CommandKind::kProbe, .client = 0, .request = probe_id};
    ok = raw_->Propose(raft::Payload(EncodeCommand(cmd))).ok();
  });
  return ok;
}

void NodeHost::AfterEvent() {
  if (raw_ == nullptr) return;
  const raft::Role role = raw_->role();
  const raft::Term term = raw_->term();
  if (role == raft::Role::kLeader) world_.checker->OnLeader(id_, term);
  if (role != last_role_ || term != last_term_) {
    const bool new_leader = role == raft::Role::kLeader;
    if (new_leader) {
      led_term_ = term;
      led_start_commit_ = raw_->GetStatus().commit;
    }
    last_role_ = role;
    last_term_ = term;
    TraceEvent ev;
    ev.time_us = world_.queue->now();
    ev.kind = TraceKind::kRole;
    ev.node = static_cast<uint32_t>(id_.value);
    ev.peer = static_cast<uint32_t>(raw_->leader().value);
    ev.sub = static_cast<uint8_t>(role);
    ev.a = term.value;
    world_.trace->Add(std::move(ev));
    if (new_leader && world_.became_leader) world_.became_leader(id_);
  }
}

}  // namespace synod::sim
