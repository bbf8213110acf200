// RawNode: the public face of the Raft core. It does no I/O, owns no thread, reads no clock
// and uses no global randomness: the caller feeds it ticks and messages, collects a Ready,
// performs it (see the ordering contract in ready.h) and calls Advance().
//
//   RawNode node(config);            // config.storage holds what was persisted before
//   loop:
//     node.Tick() every tick;  node.Step(msg) for each message;  node.Propose(data)
//     if (node.HasReady()) { Ready rd = node.GetReady(); persist; send; apply; node.Advance(); }
#pragma once

#include <map>
#include <memory>
#include <span>

#include "base/status.h"
#include "raft/confchange.h"
#include "raft/config.h"
#include "raft/ready.h"
#include "raft/types.h"

namespace synod::raft {

class Raft;

// The outcome of a proposal. On success `index`/`term` say where the entry landed (it is
// committed only if an entry with that index AND term is later applied); index 0 means it
// was forwarded to the leader (Config::forward_proposals). kNotLeader carries
// the leader this node knows of, if any, so the client can go there.
struct [[nodiscard]] ProposeResult {
  ErrorCode code = ErrorCode::kOk;
  LogIndex index;  // of the first proposed entry
  Term term;
  NodeId leader_hint = kNoNode;
  bool ok() const { return code == ErrorCode::kOk; }
};

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };

struct ProgressStatus {
  LogIndex match;
  LogIndex next;
  ProgressState state = ProgressState::kProbe;
  bool learner = false;
  bool recent_active = false;
  uint32_t inflight_msgs = 0;
};

struct NodeStatus {
  NodeId id;
  Term term;
  NodeId vote;
  LogIndex commit;
  LogIndex applied;
  LogIndex last_index;
  Role role = Role::kFollower;
  NodeId leader;
  ConfState conf_state;
  bool lease_valid = false;                       // leader only
  std::map<NodeId, ProgressStatus> progress;      // leader only
};

class RawNode {
 public:
  // Validates the config and restores from config.storage. Invalid configs are bugs (assert);
  // Create returns kInvalidArgument for those a user can get wrong.
  static Result<std::unique_ptr<RawNode>> Create(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances logical time by one tick (election and heartbeat timers, lease, check-quorum).
  void Tick();
  // Feeds a message from a peer. Messages for another group or from stale terms are ignored;
  // kInvalidArgument for malformed ones (e.g. addressed to another node).
  Status Step(const Message& m);

  // Proposes application commands, batched into consecutive log entries.
  ProposeResult Propose(std::span<const Payload> data);
  ProposeResult Propose(Payload data) { return Propose(std::span<const Payload>(&data, 1)); }
  // Proposes a membership change; refused (kProposalDropped) while one is pending.
  ProposeResult ProposeConfChange(const ConfChange& cc);
  // Applies a committed conf change entry; the caller does this when it applies one.
  ConfState ApplyConfChange(const ConfChange& cc);

  // Asks for a linearizable read point; the answer arrives as a ReadState with this context.
  // Requests that cannot be served (no leader known, leader not yet committed in its term)
  // are dropped: the caller retries after a timeout.
  void ReadIndex(uint64_t context);
  // Starts an election now (also used by tests and to bootstrap a single node).
  void Campaign();
  // Asks the leader to hand leadership to `target` (thesis §3.10).
  void TransferLeadership(NodeId target);
  // Transport feedback: the last message to `id` could not be delivered / a snapshot finished.
  void ReportUnreachable(NodeId id);
  void ReportSnapshot(NodeId id, bool success);

  bool HasReady() const;
  Ready GetReady();
  void Advance();

  NodeStatus GetStatus() const;
  NodeId id() const;
  NodeId leader() const;
  Term term() const;
  Role role() const;

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  std::unique_ptr<Raft> raft_;
};

}  // namespace synod::raft
