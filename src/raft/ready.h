// Ready: everything the core asks its caller to do after a batch of inputs.
#pragma once

#include <optional>
#include <vector>

#include "raft/types.h"

namespace synod::raft {

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role r);

// Volatile state, for information only (never persisted).
struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::kFollower;
  bool operator==(const SoftState&) const = default;
};

// The answer to ReadIndex(context): once the application has applied up to `index`, a read
// served from its state machine is linearizable (thesis §6.4).
struct ReadState {
  uint64_t context = 0;
  LogIndex index;
};

// ORDERING CONTRACT. The caller handles a Ready in this order:
//   1. Persist, durably (fsync when must_sync), in one atomic step or in this order:
//      snapshot, then entries (which replace any stored suffix from their first index), then
//      hard_state. Then make them visible through Storage.
//   2. Send `messages`. Vote grants and append acks among them promise that step 1 is durable,
//      so they must never leave before it (Raft Figure 2, "respond to RPCs" after persisting).
//   3. Apply `snapshot` (if any) and then `committed_entries` to the state machine, in order.
//      Applying may happen after sending; it never precedes step 1 of the same Ready.
//   4. Call Advance(). Nothing from this Ready may be skipped or reordered.
// read_states may be served once the application has applied up to their index.
//
// The one allowed exception to "send after persisting" (Raft thesis §10.2.1): the messages
// for which MaySendBeforePersist() holds — a leader's appends and heartbeats — may leave
// before or while step 1 runs, so the followers write the entries in parallel with the
// leader. They promise nothing about this node's disk: the leader counts its own log toward
// the commit index only after Advance() (its own match is its last *stable* index), so an
// entry still commits only once a quorum holds it durably.
struct Ready {
  std::optional<SoftState> soft_state;   // set when it changed
  std::optional<HardState> hard_state;   // set when it must be persisted
  std::optional<Snapshot> snapshot;      // to persist and apply
  std::vector<Entry> entries;            // to append to stable storage
  std::vector<Entry> committed_entries;  // to apply, in index order
  std::vector<Message> messages;         // to send after persisting
  std::vector<ReadState> read_states;
  // True when hard_state's term/vote or entries changed: the persist step needs an fsync.
  bool must_sync = false;

  bool Empty() const {
    return !soft_state && !hard_state && !snapshot && entries.empty() &&
           committed_entries.empty() && messages.empty() && read_states.empty();
  }
};

// See the ORDERING CONTRACT: true for the messages that may be sent before the Ready that
// carries them is persisted.
bool MaySendBeforePersist(const Message& m);

}  // namespace synod::raft
