// The vocabulary of the SWIM core: member ids, incarnations, states, the updates that are
// disseminated, and the messages members exchange. These are synod's own types; a wire encoding
// lives at the edge (src/server), never here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/strong_int.h"

namespace synod::gossip {

using MemberId = StrongInt<struct MemberIdTag>;  // 0 means "none"
// A member's incarnation number (SWIM §4.2): only the member itself increments it, to refute a
// suspicion or to announce new metadata, so a higher incarnation always carries newer news.
using Incarnation = StrongInt<struct IncarnationTag, uint32_t>;

inline constexpr MemberId kNoMember{0};

enum class MemberState : uint8_t {
  kAlive = 0,
  kSuspect = 1,  // failed a probe; declared dead unless it refutes in time (SWIM §4.2)
  kDead = 2,     // declared failed (SWIM's "confirm")
  kLeft = 3,     // announced a graceful leave
};

const char* MemberStateName(MemberState state);

// What a member says about itself: carried by its alive updates and push-pull state.
struct MemberMeta {
  std::string address;             // where its gossip endpoint listens (host:port)
  std::string zone;                // failure domain (rack, availability zone)
  std::vector<std::string> roles;  // e.g. "raft-voter", "storage"

  bool operator==(const MemberMeta&) const = default;
};
using MetaPtr = std::shared_ptr<const MemberMeta>;

// One piece of membership news (SWIM §4.1 piggybacked "alive", "suspect", "confirm" messages;
// "left" is the graceful leave). `from` is the member that raised a suspicion or death.
struct Update {
  MemberState state = MemberState::kAlive;
  MemberId member;
  Incarnation incarnation;
  MemberId from;
  MetaPtr meta;  // alive updates only; may be null (no metadata)
};

enum class MessageType : uint8_t {
  kPing = 0,           // direct probe (SWIM §3.1)
  kPingReq = 1,        // ask `to` to probe `target` on our behalf (SWIM §3.1)
  kAck = 2,            // answers a ping; relayed back to the origin of a ping-req
  kNack = 3,           // a ping-req helper heard nothing from the target (Lifeguard §4.3)
  kGossip = 4,         // updates only (dissemination between probes)
  kPushPull = 5,       // full state, asks for the receiver's full state back (anti-entropy, join)
  kPushPullReply = 6,  // full state, no reply
};

const char* MessageTypeName(MessageType type);

struct Message {
  MessageType type = MessageType::kPing;
  MemberId from;
  MemberId to;
  // Probe sequence number chosen by the member that started the probe: acks and nacks carry
  // the number of the probe they answer, so late answers to older probes are ignored.
  uint32_t seq = 0;
  // kPing: the member the sender means to reach (a restarted process under another id
  // ignores it). kPingReq, kAck, kNack: the probed member.
  MemberId target;
  // kPingReq: ticks the helper waits for the target's ack before it sends a nack.
  uint32_t relay_timeout_ticks = 0;
  std::vector<Update> updates;  // piggybacked news (SWIM §4.1)
  std::vector<Update> state;    // kPushPull, kPushPullReply: every member the sender knows
};

// A member changed state in this node's view. The caller logs it and updates its metrics.
struct MemberEvent {
  MemberId member;
  MemberState from = MemberState::kAlive;  // kAlive too for a member seen for the first time
  MemberState to = MemberState::kAlive;
  Incarnation incarnation;
  bool joined = false;  // first time this node hears of the member
};

}  // namespace synod::gossip
