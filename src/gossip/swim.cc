// Membership state and dissemination of the Swim member: how updates are applied (SWIM §4.2
// precedence rules), suspicion timeouts (Lifeguard §4.2), gossip and push-pull. Probing is in
// probe.cc.
#include "gossip/swim.h"

#include <algorithm>
#include <cmath>

namespace synod::gossip {

const char* MemberStateName(MemberState state) {
  switch (state) {
    case MemberState::kAlive:
      return "alive";
    case MemberState::kSuspect:
      return "suspect";
    case MemberState::kDead:
      return "dead";
    case MemberState::kLeft:
      return "left";
  }
  return "unknown";
}

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kPing:
      return "ping";
    case MessageType::kPingReq:
      return "ping-req";
    case MessageType::kAck:
      return "ack";
    case MessageType::kNack:
      return "nack";
    case MessageType::kGossip:
      return "gossip";
    case MessageType::kPushPull:
      return "push-pull";
    case MessageType::kPushPullReply:
      return "push-pull-reply";
  }
  return "unknown";
}

Swim::Swim(const Config& config)
    : config_(config),
      rng_(config.random_seed ^ (config.id.value * 0x9e3779b97f4a7c15ULL)),
      members_(config.id, config.members_max),
      broadcasts_(config.broadcasts_max),
      meta_(config.meta) {
  SYNOD_ASSERT(config.id != kNoMember, "gossip member id 0");
  SYNOD_ASSERT(config.probe_interval_ticks > config.probe_timeout_ticks,
               "the probe timeout must leave room for indirect probes");
  SYNOD_ASSERT(config.probe_timeout_ticks > 0, "probe_timeout_ticks must be positive");
  SYNOD_ASSERT(config.nack_window_percent > 0 && config.nack_window_percent <= 100,
               "nack_window_percent in (0, 100]");
  SYNOD_ASSERT(config.retransmit_mult > 0 && config.piggyback_updates_max >= 2,
               "dissemination limits must be positive");
  const bool inserted =
      members_.Insert(Member{config.id, incarnation_, MemberState::kAlive, meta_});
  SYNOD_ASSERT(inserted, "no room for self");
  // Spread the first probes of members started together over one period.
  next_probe_tick_ = 1 + rng_.Uniform(config.probe_interval_ticks);
  next_gossip_tick_ =
      config.gossip_interval_ticks == 0 ? 0 : 1 + rng_.Uniform(config.gossip_interval_ticks);
  next_push_pull_tick_ =
      config.push_pull_interval_ticks == 0 ? 0 : 1 + rng_.Uniform(config.push_pull_interval_ticks);
}

void Swim::Join(std::span<const MemberId> seeds) {
  for (MemberId seed : seeds) {
    if (seed != config_.id) SendPushPull(seed, MessageType::kPushPull);
  }
  Broadcast(SelfAlive());
}

void Swim::Bootstrap(std::span<const Update> members) {
  MergeState(members);
}

void Swim::Leave() {
  if (left_) return;
  left_ = true;
  ++incarnation_;
  Member* self = members_.FindMutable(config_.id);
  self->incarnation = incarnation_;
  members_.SetState(self, MemberState::kLeft);
  suspicions_.clear();
  relays_.clear();
  probe_ = Probe{};
  Broadcast(Update{MemberState::kLeft, config_.id, incarnation_, config_.id, nullptr});
}

void Swim::UpdateMeta(MetaPtr meta) {
  meta_ = std::move(meta);
  ++incarnation_;
  Member* self = members_.FindMutable(config_.id);
  self->incarnation = incarnation_;
  self->meta = meta_;
  Broadcast(SelfAlive());
}

Update Swim::SelfAlive() const {
  return Update{MemberState::kAlive, config_.id, incarnation_, config_.id, meta_};
}

void Swim::Tick() {
  ++now_ticks_;
  if (!left_) {
    TickProbe();
    TickRelays();
    TickSuspicions();
    TickPushPull();
  }
  TickGossip();
}

Status Swim::Step(const Message& m) {
  if (m.to != config_.id) return Status(ErrorCode::kInvalidArgument, "message for another member");
  if (m.from == config_.id || m.from == kNoMember) {
    return Status(ErrorCode::kInvalidArgument, "message from self or from member 0");
  }
  if (left_) return Status::Ok();
  for (const Update& u : m.updates) ApplyUpdate(u);
  switch (m.type) {
    case MessageType::kPing:
      HandlePing(m);
      break;
    case MessageType::kPingReq:
      HandlePingReq(m);
      break;
    case MessageType::kAck:
      HandleAck(m);
      break;
    case MessageType::kNack:
      HandleNack(m);
      break;
    case MessageType::kGossip:
      break;
    case MessageType::kPushPull:
      MergeState(m.state);
      SendPushPull(m.from, MessageType::kPushPullReply);
      break;
    case MessageType::kPushPullReply:
      MergeState(m.state);
      break;
  }
  return Status::Ok();
}

std::vector<Message> Swim::TakeMessages() {
  return std::exchange(outbox_, {});
}
std::vector<MemberEvent> Swim::TakeEvents() {
  return std::exchange(events_, {});
}

SuspicionBounds Swim::suspicion_bounds() const {
  // Local health scales the suspicion window as it scales probing (an extension of Lifeguard
  // §4.3 to the suspicion timer): a member that is itself slow hears refutations late, so it
  // must wait longer before it declares anyone dead.
  SuspicionBounds b =
      ComputeSuspicionBounds(MembersForScaling(), config_.probe_interval_ticks,
                             config_.suspicion_min_mult_percent, config_.suspicion_max_mult);
  b.min_ticks *= health_score_ + 1;
  b.max_ticks *= health_score_ + 1;
  return b;
}

uint32_t Swim::TransmitLimit() const {
  // SWIM §4.1: lambda * log(n) retransmissions reach every member with high probability.
  const double scale = std::ceil(std::log10(static_cast<double>(MembersForScaling()) + 1.0));
  return config_.retransmit_mult * static_cast<uint32_t>(std::max(1.0, scale));
}

// --- applying updates (SWIM §4.2) ---

void Swim::ApplyUpdate(const Update& u) {
  if (u.member == kNoMember) return;
  if (u.member == config_.id) {
    ApplyAboutSelf(u);
    return;
  }
  switch (u.state) {
    case MemberState::kAlive:
      ApplyAlive(u);
      break;
    case MemberState::kSuspect:
      ApplySuspect(u);
      break;
    case MemberState::kDead:
    case MemberState::kLeft:
      ApplyDeadOrLeft(u);
      break;
  }
}

void Swim::ApplyAboutSelf(const Update& u) {
  // SWIM §4.2: a member that hears itself suspected (or declared dead: a restarted process,
  // or a false death) refutes with a higher incarnation. Lifeguard §4.3: having to refute is a
  // sign that this member itself is slow, so its health score rises.
  const bool accused = u.state != MemberState::kAlive;
  if (accused && u.incarnation < incarnation_) {
    // An accusation we already refuted is still going round: someone missed the refutation
    // (gossip reaches each member only with high probability). Spread our current word again;
    // the reply to whoever sent this carries it first.
    Broadcast(SelfAlive());
    return;
  }
  if (u.incarnation < incarnation_ || (!accused && u.incarnation == incarnation_)) return;
  incarnation_ = u.incarnation + 1;
  Member* self = members_.FindMutable(config_.id);
  self->incarnation = incarnation_;
  if (accused) AdjustHealth(+1);
  Broadcast(SelfAlive());
  // The refutation leads every message we send until it has gone out a full transmit limit of
  // times: a busy member's queue must not bury the one update that keeps it alive.
  refute_sends_left_ = TransmitLimit();
}

void Swim::ApplyAlive(const Update& u) {
  Member* m = members_.FindMutable(u.member);
  if (m == nullptr) {
    if (!members_.Insert(Member{u.member, u.incarnation, MemberState::kAlive, u.meta})) return;
    probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(
                                                   rng_.Between(probe_pos_, probe_order_.size())),
                        u.member);
    events_.push_back(
        MemberEvent{u.member, MemberState::kAlive, MemberState::kAlive, u.incarnation, true});
    Broadcast(u);
    return;
  }
  // Only a newer incarnation overrides: alive news of the same incarnation as a suspicion is
  // older than the suspicion (SWIM §4.2).
  if (u.incarnation <= m->incarnation) return;
  const bool was_live = IsLive(m->state);
  m->meta = u.meta;
  suspicions_.erase(u.member);
  ChangeState(m, MemberState::kAlive, u.incarnation, false);
  if (!was_live) probe_order_.push_back(u.member);
  Broadcast(u);
}

void Swim::ApplySuspect(const Update& u) {
  Member* m = members_.FindMutable(u.member);
  if (m == nullptr || !IsLive(m->state) || u.incarnation < m->incarnation) return;
  if (m->state == MemberState::kSuspect && u.incarnation == m->incarnation) {
    // Lifeguard §4.2: an independent confirmation shortens the timeout; passing it on lets
    // the others shorten theirs.
    auto it = suspicions_.find(u.member);
    SYNOD_ASSERT(it != suspicions_.end(), "suspect member without a suspicion");
    Suspicion& s = it->second;
    if (std::find(s.accusers.begin(), s.accusers.end(), u.from) != s.accusers.end()) return;
    if (s.accusers.size() > config_.suspicion_confirmations_max) return;
    s.accusers.push_back(u.from);
    const uint32_t expected = std::min<uint32_t>(
        config_.suspicion_confirmations_max, MembersForScaling() > 2 ? MembersForScaling() - 2 : 0);
    s.deadline_tick = s.start_tick +
                      SuspicionTimeoutTicks(suspicion_bounds(),
                                            static_cast<uint32_t>(s.accusers.size() - 1), expected);
    Broadcast(u);
    return;
  }
  StartSuspicion(m, u.incarnation, u.from);
  Broadcast(u);
}

void Swim::ApplyDeadOrLeft(const Update& u) {
  Member* m = members_.FindMutable(u.member);
  if (m == nullptr || u.incarnation < m->incarnation) return;
  if (m->state == u.state || m->state == MemberState::kLeft) return;
  suspicions_.erase(u.member);
  ChangeState(m, u.state, u.incarnation, false);
  Broadcast(u);
}

void Swim::StartSuspicion(Member* m, Incarnation inc, MemberId accuser) {
  const uint32_t expected = std::min<uint32_t>(
      config_.suspicion_confirmations_max, MembersForScaling() > 2 ? MembersForScaling() - 2 : 0);
  Suspicion s;
  s.incarnation = inc;
  s.start_tick = now_ticks_;
  s.deadline_tick = now_ticks_ + SuspicionTimeoutTicks(suspicion_bounds(), 0, expected);
  s.accusers.push_back(accuser);
  suspicions_[m->id] = std::move(s);
  ChangeState(m, MemberState::kSuspect, inc, false);
}

void Swim::ChangeState(Member* m, MemberState to, Incarnation inc, bool joined) {
  const MemberState from = m->state;
  m->incarnation = inc;
  members_.SetState(m, to);
  if (from != to || joined) events_.push_back(MemberEvent{m->id, from, to, inc, joined});
}

void Swim::TickSuspicions() {
  for (auto it = suspicions_.begin(); it != suspicions_.end();) {
    if (it->second.deadline_tick > now_ticks_) {
      ++it;
      continue;
    }
    Member* m = members_.FindMutable(it->first);
    SYNOD_ASSERT(m != nullptr && m->state == MemberState::kSuspect, "stale suspicion");
    const Incarnation inc = it->second.incarnation;
    it = suspicions_.erase(it);
    ChangeState(m, MemberState::kDead, inc, false);
    Broadcast(Update{MemberState::kDead, m->id, inc, config_.id, nullptr});
  }
}

void Swim::MergeState(std::span<const Update> state) {
  std::vector<Member> fresh;
  for (const Update& u : state) {
    if (u.member == kNoMember) continue;
    if (u.member == config_.id) {
      ApplyAboutSelf(u);
      continue;
    }
    const Member* known = members_.Find(u.member);
    if (known == nullptr) {
      // Members new to us arrive in bulk (a join brings the whole cluster): they are added in
      // one merge and not re-broadcast, since every other member gets the same state through
      // its own push-pulls. Dead and left members we never knew are of no interest.
      if (IsLive(u.state)) {
        fresh.push_back(Member{u.member, u.incarnation, MemberState::kAlive, u.meta});
      }
      continue;
    }
    // A remote "dead" becomes a suspicion here, not a death: the member gets a chance to
    // refute what may be an old or mistaken verdict.
    Update local = u;
    if (u.state == MemberState::kDead) local.state = MemberState::kSuspect;
    ApplyUpdate(local);
  }
  if (fresh.empty()) return;
  std::sort(fresh.begin(), fresh.end(),
            [](const Member& a, const Member& b) { return a.id < b.id; });
  fresh.erase(std::unique(fresh.begin(), fresh.end(),
                          [](const Member& a, const Member& b) { return a.id == b.id; }),
              fresh.end());
  const size_t added = members_.InsertSorted(fresh);
  const size_t first_new = probe_order_.size();
  for (size_t i = 0; i < added; ++i) {
    probe_order_.push_back(fresh[i].id);
    events_.push_back(MemberEvent{fresh[i].id, MemberState::kAlive, MemberState::kAlive,
                                  fresh[i].incarnation, true});
  }
  // SWIM §4.3: new members go to random positions among those not yet probed this round.
  const size_t lo = std::min(probe_pos_, first_new);
  for (size_t i = probe_order_.size(); i > lo + 1; --i) {
    std::swap(probe_order_[i - 1], probe_order_[lo + rng_.Uniform(i - lo)]);
  }
}

// --- dissemination ---

void Swim::TickGossip() {
  if (config_.gossip_interval_ticks == 0 || now_ticks_ < next_gossip_tick_) return;
  next_gossip_tick_ = now_ticks_ + config_.gossip_interval_ticks;
  if (broadcasts_.empty()) return;
  members_.SampleLive(rng_, config_.gossip_fanout, kNoMember, &scratch_ids_);
  const std::vector<MemberId> targets = scratch_ids_;
  for (MemberId to : targets) {
    if (broadcasts_.empty()) break;
    Message m;
    m.type = MessageType::kGossip;
    m.to = to;
    Send(std::move(m));
  }
}

void Swim::TickPushPull() {
  if (config_.push_pull_interval_ticks == 0 || now_ticks_ < next_push_pull_tick_) return;
  // The full state grows with n, so large clusters exchange it less often: the interval
  // doubles with every doubling of n beyond push_pull_scale_members (as memberlist does).
  constexpr uint32_t push_pull_scale_members = 32;
  const uint32_t n = MembersForScaling();
  uint64_t mult = 1;
  if (n > push_pull_scale_members) {
    mult += static_cast<uint64_t>(
        std::ceil(std::log2(static_cast<double>(n) / push_pull_scale_members)));
  }
  next_push_pull_tick_ = now_ticks_ + config_.push_pull_interval_ticks * mult;
  members_.SampleLive(rng_, 1, kNoMember, &scratch_ids_);
  if (!scratch_ids_.empty()) SendPushPull(scratch_ids_[0], MessageType::kPushPull);
}

void Swim::SendPushPull(MemberId to, MessageType type) {
  Message m;
  m.type = type;
  m.to = to;
  m.state.reserve(members_.size());
  for (const Member& mem : members_.all()) {
    m.state.push_back(Update{mem.state, mem.id, mem.incarnation, config_.id,
                             IsLive(mem.state) ? mem.meta : nullptr});
  }
  Send(std::move(m));
}

// Every message carries piggybacked updates (SWIM §4.1); a message to a member we suspect
// leads with that suspicion, so the member can refute it at once (Lifeguard §4.4).
void Swim::Send(Message m) {
  SYNOD_ASSERT(m.to != kNoMember && m.to != config_.id, "send to nobody or to self");
  m.from = config_.id;
  uint32_t room = config_.piggyback_updates_max;
  MemberId skip = kNoMember;
  if (refute_sends_left_ > 0) {
    --refute_sends_left_;
    m.updates.push_back(SelfAlive());
    --room;
  }
  auto it = suspicions_.find(m.to);
  if (it != suspicions_.end()) {
    m.updates.push_back(Update{MemberState::kSuspect, m.to, it->second.incarnation,
                               it->second.accusers.front(), nullptr});
    --room;
    skip = m.to;
  }
  broadcasts_.Fill(TransmitLimit(), room, skip, &m.updates);
  outbox_.push_back(std::move(m));
}

}  // namespace synod::gossip
