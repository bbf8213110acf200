// Options of one SWIM member. Time is in ticks of the caller's choosing (the server ticks every
// 10 ms; the simulator's tick is abstract). Every limit is explicit and named with its unit last.
#pragma once

#include <cstdint>

#include "gossip/types.h"

namespace synod::gossip {

struct Config {
  MemberId id = kNoMember;
  MetaPtr meta;  // this member's own metadata (may be null)
  // Seeds the member's own random source (probe order, helpers, gossip targets). No global
  // randomness: a simulation reproduces from its seeds.
  uint64_t random_seed = 0;

  // --- failure detection (SWIM §3.1, §4.3) ---
  // One protocol period: a probe of the next member in randomized round-robin order.
  uint32_t probe_interval_ticks = 20;
  // Wait this long for a direct ack before asking ping_req_members helpers (SWIM §3.1).
  // Must exceed a round trip; the indirect probe gets the rest of the period.
  uint32_t probe_timeout_ticks = 6;
  // k of SWIM §3.1: helpers asked to probe a member that missed its direct ack.
  uint32_t ping_req_members = 3;
  // A helper sends a nack when the target has not answered within this share (percent) of the
  // indirect window, so the asker can tell "target is down" from "I am slow" (Lifeguard §4.3).
  // It leaves the rest of the window for the nack to travel back.
  uint32_t nack_window_percent = 60;
  // A prober whose helpers sent neither an ack nor a nack blames itself, not the target, and
  // raises no suspicion (the evidence says it is the slow or cut-off one; the others' probes
  // catch a real failure). An extension of Lifeguard §4.3's nacks, measured in
  // docs/membership.md.
  bool withhold_without_nacks = true;

  // --- Lifeguard local health awareness (Lifeguard §4.3, "LHA-Probe") ---
  // Health score in [0, health_score_max]: +1 per failed probe or missed nack, +1 per
  // refutation of a suspicion about ourselves, -1 per successful probe. Probe interval and
  // probe timeout are multiplied by (score + 1), so a slow member probes (and accuses) less.
  uint32_t health_score_max = 8;

  // --- suspicion (SWIM §4.2; Lifeguard §4.2, "LHA-Suspicion") ---
  // Suspicion timeout with c independent confirmations out of an expected K:
  //   min = suspicion_min_mult_percent/100 * max(1, log10(n)) * probe_interval
  //   max = suspicion_max_mult * min
  //   timeout = max(min, max - (max - min) * log(c + 1) / log(K + 1))
  // where n is the number of members this node believes alive.
  uint32_t suspicion_min_mult_percent = 70;
  uint32_t suspicion_max_mult = 3;
  // K: confirmations (suspicions raised independently by other members) after which the
  // timeout reaches its minimum. Bounded by n - 2.
  uint32_t suspicion_confirmations_max = 2;

  // --- dissemination (SWIM §4.1) ---
  // Each update is piggybacked at most retransmit_mult * ceil(log10(n + 1)) times by each
  // member that learned it (the "lambda log n" of SWIM §4.1).
  uint32_t retransmit_mult = 6;
  // Updates piggybacked on one message (a datagram must stay under the MTU).
  uint32_t piggyback_updates_max = 16;
  // Updates waiting to be disseminated; beyond it the most retransmitted are dropped
  // (push-pull repairs what gossip lost).
  uint32_t broadcasts_max = 1024;
  // Between probes, pending updates go to gossip_fanout random members every
  // gossip_interval_ticks, so news spreads in O(log n) gossip rounds (0 disables).
  uint32_t gossip_interval_ticks = 4;
  uint32_t gossip_fanout = 3;

  // --- anti-entropy (push-pull) and membership ---
  // Exchange full state with one random member this often (0 disables).
  uint32_t push_pull_interval_ticks = 600;
  // Members this node tracks, itself and dead or left ones included.
  uint32_t members_max = 16384;
  // Relayed probes (ping-req helper role) in flight at once; more are refused.
  uint32_t relays_max = 64;
};

}  // namespace synod::gossip
