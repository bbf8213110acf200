// Swim: one member of a SWIM group (Das, Gupta, Motivala 2002) with the Lifeguard extensions
// (Dadgar, Phillips, Currey 2018). It does no I/O, owns no thread, reads no clock and uses no
// global randomness: the caller feeds it ticks and messages, and sends what it asks for.
//
//   Swim node(config);  node.Join(seeds);        // or Bootstrap(known members)
//   loop:
//     node.Tick() every tick;  node.Step(msg) for each message received
//     for (Message& m : node.TakeMessages()) send m to m.to (unreliable datagrams suffice)
//     for (MemberEvent& e : node.TakeEvents()) log / export e
//
// What it does, and where each piece comes from:
//   - a probe per protocol period, targets in randomized round-robin order (SWIM §4.3);
//   - indirect probes through ping_req_members helpers when the direct ack is late (SWIM §3.1);
//   - suspicion with incarnation numbers, refuted by the suspect itself (SWIM §4.2);
//   - a suspicion timeout that shrinks with independent confirmations (Lifeguard §4.2);
//   - local health awareness: missed acks and nacks lengthen its own probe interval and
//     timeout, so a slow member stops accusing healthy ones (Lifeguard §4.3);
//   - "buddy system": a ping to a suspect carries the suspicion, so it can refute at once
//     (Lifeguard §4.4);
//   - piggybacked dissemination, each update sent about lambda * log n times (SWIM §4.1),
//     plus gossip rounds to a few random members between probes;
//   - periodic push-pull of the full state with a random member (anti-entropy), join through
//     seeds, graceful leave, member metadata.
#pragma once

#include <map>
#include <span>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "gossip/broadcast_queue.h"
#include "gossip/config.h"
#include "gossip/member_table.h"
#include "gossip/suspicion.h"
#include "gossip/types.h"

namespace synod::gossip {

class Swim {
 public:
  explicit Swim(const Config& config);

  // Asks each seed for its full state (push-pull) and announces this member. The caller knows
  // how to reach the seeds (their ids map to addresses outside the core).
  void Join(std::span<const MemberId> seeds);
  // Starts from a known member list (a static initial cluster), as if a push-pull had brought
  // it; nothing is sent. Entries about this member itself are ignored.
  void Bootstrap(std::span<const Update> members);
  // Announces a graceful leave (SWIM's voluntary leave): the node stops probing and answering,
  // and keeps only gossiping until left_drained().
  void Leave();
  // New metadata for this member, announced with a new incarnation.
  void UpdateMeta(MetaPtr meta);

  // Advances logical time by one tick.
  void Tick();
  // Feeds a received message. kInvalidArgument if it is addressed to another member.
  Status Step(const Message& m);

  std::vector<Message> TakeMessages();
  std::vector<MemberEvent> TakeEvents();

  MemberId id() const { return config_.id; }
  Incarnation incarnation() const { return incarnation_; }
  const MemberTable& members() const { return members_; }
  uint32_t health_score() const { return health_score_; }
  bool left() const { return left_; }
  bool left_drained() const { return left_ && broadcasts_.empty(); }
  uint64_t now_ticks() const { return now_ticks_; }
  size_t suspicions() const { return suspicions_.size(); }
  size_t pending_broadcasts() const { return broadcasts_.size(); }
  // The suspicion timeout bounds for the current member count (for operators and tests).
  SuspicionBounds suspicion_bounds() const;
  // Ticks between probes now, after local health scaling.
  uint64_t probe_interval_now_ticks() const;

 private:
  struct Probe {
    bool active = false;
    MemberId target;
    uint32_t seq = 0;
    uint64_t indirect_tick = 0;  // send ping-reqs if no ack by then
    uint64_t end_tick = 0;       // suspect the target if no ack by then
    bool indirect_sent = false;
    uint32_t nacks_expected = 0;
    uint32_t nacks = 0;
  };
  struct Relay {
    MemberId origin;
    uint32_t origin_seq = 0;
    MemberId target;
    uint64_t nack_tick = 0;
  };

  // Probing (probe.cc).
  void TickProbe();
  void StartProbe();
  void SendPingReqs();
  void FinishProbe(bool acked);
  MemberId NextProbeTarget();
  void TickRelays();
  void HandlePing(const Message& m);
  void HandlePingReq(const Message& m);
  void HandleAck(const Message& m);
  void HandleNack(const Message& m);
  void AdjustHealth(int delta);

  // Membership state (swim.cc).
  void ApplyUpdate(const Update& u);
  void ApplyAboutSelf(const Update& u);
  void ApplyAlive(const Update& u);
  void ApplySuspect(const Update& u);
  void ApplyDeadOrLeft(const Update& u);
  void MergeState(std::span<const Update> state);
  void TickSuspicions();
  void StartSuspicion(Member* m, Incarnation inc, MemberId accuser);
  void ChangeState(Member* m, MemberState to, Incarnation inc, bool joined);
  void Broadcast(const Update& u) { broadcasts_.Push(u); }
  Update SelfAlive() const;
  uint32_t TransmitLimit() const;
  uint32_t MembersForScaling() const { return members_.live_others() + 1; }

  // Dissemination (swim.cc).
  void TickGossip();
  void TickPushPull();
  void SendPushPull(MemberId to, MessageType type);
  void Send(Message m);

  Config config_;
  Random rng_;
  MemberTable members_;
  BroadcastQueue broadcasts_;
  Incarnation incarnation_;
  MetaPtr meta_;
  uint64_t now_ticks_ = 0;
  uint32_t health_score_ = 0;
  bool left_ = false;

  uint32_t refute_sends_left_ = 0;  // messages that still lead with our refutation
  uint32_t next_seq_ = 0;
  Probe probe_;
  uint64_t next_probe_tick_ = 0;
  std::vector<MemberId> probe_order_;  // randomized round-robin list (SWIM §4.3)
  size_t probe_pos_ = 0;
  std::map<uint32_t, Relay> relays_;  // by the seq of the ping we sent for the origin
  std::map<MemberId, Suspicion> suspicions_;
  uint64_t next_gossip_tick_ = 0;
  uint64_t next_push_pull_tick_ = 0;

  std::vector<Message> outbox_;
  std::vector<MemberEvent> events_;
  std::vector<MemberId> scratch_ids_;
};

}  // namespace synod::gossip
