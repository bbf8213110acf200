// Options of one Raft group member. Every limit is explicit and named with its unit last.
#pragma once

#include <cstdint>

#include "raft/types.h"

namespace synod::raft {

class Storage;

enum class ReadMode : uint8_t {
  // ReadIndex (thesis §6.4): confirm leadership with a heartbeat round before serving.
  kReadIndex = 0,
  // Leader lease (thesis §6.4.1): serve at once while the lease holds. Safe only under the
  // clock-drift bound documented at Config::lease_drift_ticks.
  kLeaseBased = 1,
};

// Known protocol bugs that can be switched on deliberately, so tests can prove that the
// simulator's checkers catch them. All false in every real configuration.
struct InjectedBugs {
  // Grant votes without the §5.4.1 "candidate's log is at least as up-to-date" check.
  bool vote_without_log_check = false;
  // Commit an entry of an earlier term by counting replicas, against §5.4.2.
  bool commit_old_term_by_count = false;
  // Leave a new vote out of the HardState to persist, so the vote reply goes out before the
  // vote is durable (violates Figure 2's "respond after persisting").
  bool vote_before_persist = false;
  // Serve lease reads without checking the lease: a deposed leader answers from stale state.
  bool lease_read_without_lease = false;

  bool Any() const {
    return vote_without_log_check || commit_old_term_by_count || vote_before_persist ||
           lease_read_without_lease;
  }
};

struct Config {
  NodeId id = kNoNode;
  GroupId group{1};
  // Read-only view of the stable log; the caller owns it and must outlive the node.
  Storage* storage = nullptr;
  // Last index the application has applied; entries up to it are not handed out again.
  LogIndex applied;

  // A follower that hears nothing for a randomized timeout in
  // [election_timeout_ticks, 2 * election_timeout_ticks) starts an election (§5.2).
  uint32_t election_timeout_ticks = 10;
  uint32_t heartbeat_interval_ticks = 1;
  // Seeds the node's own random source (election timeouts). No global randomness.
  uint64_t random_seed = 0;

  // Bytes of entries in one append message (a single larger entry still goes alone).
  uint64_t append_bytes_max = 1 << 20;
  // Append messages in flight to one follower before the leader waits (pipelining window).
  uint32_t inflight_msgs_max = 256;
  // Bytes of proposed but uncommitted entries the leader accepts before dropping proposals.
  uint64_t uncommitted_bytes_max = 64 << 20;
  // Committed entries handed to the application in one Ready.
  uint64_t apply_bytes_max = 64 << 20;
  // Read requests waiting at the leader for a heartbeat round or for its first commit.
  uint32_t read_requests_max = 16384;

  // A follower that knows the leader forwards proposals to it (ProposeResult ok, index 0:
  // the caller learns the outcome when the entry is applied). Off: followers answer
  // kNotLeader with a leader hint.
  bool forward_proposals = false;

  bool pre_vote = true;
  // The leader steps down when it has not heard from a quorum in an election timeout, and
  // followers ignore votes while they hear from a leader (leader stickiness).
  bool check_quorum = true;
  ReadMode read_mode = ReadMode::kReadIndex;
  // Lease reads assume no member's clock runs faster than the leader's by more than this many
  // ticks per election timeout. The lease lasts election_timeout_ticks - lease_drift_ticks from
  // the moment the leader SENT the heartbeat a quorum acknowledged; no other leader can be
  // elected before every follower that acked it has waited a full election timeout.
  // With clocks drifting at most rho (e.g. 1e-4) set this >= ceil(2 * rho * election_timeout)
  // plus one tick for tick quantization.
  uint32_t lease_drift_ticks = 2;

  InjectedBugs bugs;
};

}  // namespace synod::raft
