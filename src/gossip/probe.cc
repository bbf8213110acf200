// Probing of the Swim member: the protocol period (SWIM §3.1, §4.3), the ping-req helper role,
// and local health awareness (Lifeguard §4.3).
#include <algorithm>

#include "gossip/swim.h"

namespace synod::gossip {

uint64_t Swim::probe_interval_now_ticks() const {
  return static_cast<uint64_t>(config_.probe_interval_ticks) * (health_score_ + 1);
}

void Swim::AdjustHealth(int delta) {
  // Lifeguard §4.3: the score saturates at both ends; the probe interval and timeout scale
  // with score + 1.
  if (delta < 0) {
    health_score_ -= std::min<uint32_t>(health_score_, static_cast<uint32_t>(-delta));
  } else {
    health_score_ =
        std::min(config_.health_score_max, health_score_ + static_cast<uint32_t>(delta));
  }
}

void Swim::TickProbe() {
  if (probe_.active) {
    if (!probe_.indirect_sent && now_ticks_ >= probe_.indirect_tick) SendPingReqs();
    if (now_ticks_ >= probe_.end_tick) FinishProbe(false);
  }
  if (!probe_.active && now_ticks_ >= next_probe_tick_) StartProbe();
}

MemberId Swim::NextProbeTarget() {
  // SWIM §4.3: members are probed in a random order, each once per round, and the list is
  // shuffled again at the end of a round; so a failed member is probed within 2n - 1 periods
  // at worst, not just in expectation.
  for (size_t tries = 0; tries <= probe_order_.size(); ++tries) {
    if (probe_pos_ >= probe_order_.size()) {
      std::erase_if(probe_order_, [this](MemberId id) {
        const Member* m = members_.Find(id);
        return m == nullptr || !IsLive(m->state);
      });
      for (size_t i = probe_order_.size(); i > 1; --i) {
        std::swap(probe_order_[i - 1], probe_order_[rng_.Uniform(i)]);
      }
      probe_pos_ = 0;
      if (probe_order_.empty()) return kNoMember;
    }
    const MemberId id = probe_order_[probe_pos_++];
    const Member* m = members_.Find(id);
    if (m != nullptr && IsLive(m->state)) return id;
  }
  return kNoMember;
}

void Swim::StartProbe() {
  const uint64_t interval = probe_interval_now_ticks();
  next_probe_tick_ = now_ticks_ + interval;
  const MemberId target = NextProbeTarget();
  if (target == kNoMember) return;
  probe_ = Probe{};
  probe_.active = true;
  probe_.target = target;
  probe_.seq = ++next_seq_;
  probe_.indirect_tick =
      now_ticks_ + static_cast<uint64_t>(config_.probe_timeout_ticks) * (health_score_ + 1);
  probe_.end_tick = now_ticks_ + interval;
  Message m;
  m.type = MessageType::kPing;
  m.to = target;
  m.seq = probe_.seq;
  m.target = target;
  Send(std::move(m));
}

void Swim::SendPingReqs() {
  probe_.indirect_sent = true;
  members_.SampleLive(rng_, config_.ping_req_members, probe_.target, &scratch_ids_);
  const std::vector<MemberId> helpers = scratch_ids_;
  const uint64_t window = probe_.end_tick - now_ticks_;
  const auto relay_timeout =
      static_cast<uint32_t>(std::max<uint64_t>(1, window * config_.nack_window_percent / 100));
  for (MemberId helper : helpers) {
    Message m;
    m.type = MessageType::kPingReq;
    m.to = helper;
    m.seq = probe_.seq;
    m.target = probe_.target;
    m.relay_timeout_ticks = relay_timeout;
    Send(std::move(m));
  }
  probe_.nacks_expected = static_cast<uint32_t>(helpers.size());
}

void Swim::FinishProbe(bool acked) {
  SYNOD_ASSERT(probe_.active, "finishing a probe that is not running");
  const Probe p = probe_;
  probe_ = Probe{};
  if (acked) {
    AdjustHealth(-1);
    return;
  }
  // Lifeguard §4.3: helpers that did not even nack suggest the fault is ours (we are slow or
  // cut off), not the target's.
  if (p.nacks_expected == 0) {
    AdjustHealth(+1);
  } else if (p.nacks < p.nacks_expected) {
    AdjustHealth(static_cast<int>(p.nacks_expected - p.nacks));
  }
  // Not one helper answered, not even with a nack: the evidence is against ourselves, not the
  // target, so we do not accuse it (the others' probes will, if it really failed).
  if (config_.withhold_without_nacks && p.nacks_expected > 0 && p.nacks == 0) return;
  Member* m = members_.FindMutable(p.target);
  if (m == nullptr || !IsLive(m->state)) return;
  const Update accusation{MemberState::kSuspect, p.target, m->incarnation, config_.id, nullptr};
  ApplySuspect(accusation);
}

void Swim::HandlePing(const Message& m) {
  if (m.target != config_.id) return;  // meant for an earlier owner of this address
  Message ack;
  ack.type = MessageType::kAck;
  ack.to = m.from;
  ack.seq = m.seq;
  ack.target = config_.id;
  Send(std::move(ack));
}

void Swim::HandlePingReq(const Message& m) {
  if (m.target == config_.id || m.target == kNoMember) return;
  if (relays_.size() >= config_.relays_max) return;  // the asker counts a missed nack
  const uint32_t seq = ++next_seq_;
  relays_[seq] = Relay{m.from, m.seq, m.target, now_ticks_ + std::max(1u, m.relay_timeout_ticks)};
  Message ping;
  ping.type = MessageType::kPing;
  ping.to = m.target;
  ping.seq = seq;
  ping.target = m.target;
  Send(std::move(ping));
}

void Swim::HandleAck(const Message& m) {
  auto relay = relays_.find(m.seq);
  if (relay != relays_.end()) {
    if (relay->second.target != m.from) return;
    Message fwd;
    fwd.type = MessageType::kAck;
    fwd.to = relay->second.origin;
    fwd.seq = relay->second.origin_seq;
    fwd.target = relay->second.target;
    relays_.erase(relay);
    Send(std::move(fwd));
    return;
  }
  if (probe_.active && m.seq == probe_.seq && m.target == probe_.target) FinishProbe(true);
}

void Swim::HandleNack(const Message& m) {
  if (probe_.active && m.seq == probe_.seq && m.target == probe_.target) ++probe_.nacks;
}

void Swim::TickRelays() {
  for (auto it = relays_.begin(); it != relays_.end();) {
    if (it->second.nack_tick > now_ticks_) {
      ++it;
      continue;
    }
    Message nack;
    nack.type = MessageType::kNack;
    nack.to = it->second.origin;
    nack.seq = it->second.origin_seq;
    nack.target = it->second.target;
    it = relays_.erase(it);
    Send(std::move(nack));
  }
}

}  // namespace synod::gossip
