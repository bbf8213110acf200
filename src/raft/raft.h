// The Raft state machine (Ongaro & Ousterhout, "In Search of an Understandable Consensus
// Algorithm", and Ongaro's thesis). Internal to src/raft: users go through RawNode.
//
// Split by concern: raft.cc (roles, terms, elections, message dispatch, membership),
// replication.cc (the leader's log replication, commit and reads), ready.cc (Ready/Advance).
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "base/random.h"
#include "raft/changer.h"
#include "raft/config.h"
#include "raft/log.h"
#include "raft/progress.h"
#include "raft/raw_node.h"
#include "raft/ready.h"

namespace synod::raft {

class Raft {
 public:
  explicit Raft(const Config& config);

  void Tick();
  Status Step(const Message& m);
  ProposeResult Propose(std::span<const Payload> data, EntryType type);
  ProposeResult ProposeConfChange(const ConfChange& cc);
  ConfState ApplyConfChange(const ConfChange& cc);
  void ReadIndex(uint64_t context);
  void Campaign(bool transfer);
  void TransferLeadership(NodeId target);
  void ReportUnreachable(NodeId id);
  void ReportSnapshot(NodeId id, bool success);

  bool HasReady() const;
  Ready GetReady();
  void Advance();

  NodeStatus GetStatus() const;
  NodeId id() const { return id_; }
  NodeId leader() const { return lead_; }
  Term term() const { return term_; }
  Role role() const { return role_; }

 private:
  struct PendingRead {
    uint64_t context;
    NodeId from;
    LogIndex index;
    uint64_t round;  // served once a quorum acknowledged this heartbeat round
  };
  // What the last GetReady handed out, for Advance.
  struct Handed {
    std::optional<HardState> hard_state;
    std::optional<SoftState> soft_state;
    std::optional<std::pair<LogIndex, Term>> last_entry;
    std::optional<LogIndex> snapshot_index;
    std::optional<LogIndex> last_committed;
    uint64_t committed_bytes = 0;
  };

  // raft.cc: roles and elections.
  void Reset(Term term);
  void BecomeFollower(Term term, NodeId leader);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void TickElection();
  void TickHeartbeat();
  void StartElection(bool pre, bool transfer);
  bool Promotable() const;
  bool InLease() const;
  bool HasUnappliedConfChanges() const;
  VoteResult Poll(NodeId id, bool granted);
  void HandleVoteRequest(const Message& m);
  void StepCandidate(const Message& m);
  void StepFollower(const Message& m);
  void HandleAppend(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  bool Restore(const Snapshot& snap);
  void SwitchTo(const TrackerConfig& cfg);
  void SendFarewell(NodeId to, const Progress& pr);
  void ResetProgress();
  void Send(Message m);
  void ResetRandomizedElectionTimeout();

  // replication.cc: the leader.
  void StepLeader(const Message& m);
  void HandleAppendResponse(const Message& m);
  void HandleHeartbeatResponse(const Message& m);
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  void BroadcastAppend(bool send_if_empty);
  void BroadcastHeartbeat();
  void FlushBroadcasts();
  bool MaybeCommit();
  bool CommittedInCurrentTerm() const;
  bool QuorumActive() const;
  bool LeaseValid() const;
  uint64_t TickOfRound(uint64_t round) const;
  void HandleReadRequest(uint64_t context, NodeId from);
  void ServeRead(uint64_t context, NodeId from, LogIndex index);
  void ServePendingReads();
  void SendTimeoutNow(NodeId to);
  void AbortLeaderTransfer() { lead_transferee_ = kNoNode; }
  void MaybeAutoLeave();
  ProposeResult AppendProposals(std::span<const Payload> data, EntryType type);

  // ready.cc
  HardState ReportedHardState() const;

  Config cfg_;
  const NodeId id_;
  Random rng_;
  RaftLog log_;

  Term term_;
  NodeId vote_ = kNoNode;
  Role role_ = Role::kFollower;
  NodeId lead_ = kNoNode;
  TrackerConfig conf_;
  std::map<NodeId, Progress> prs_;  // ordered: deterministic iteration
  std::map<NodeId, bool> votes_;

  uint64_t ticks_ = 0;  // ticks since this process started
  bool restarted_ = false;  // started from a persisted term: it may have acked a leader
  uint32_t election_elapsed_ = 0;
  uint32_t heartbeat_elapsed_ = 0;
  uint32_t randomized_election_timeout_ = 0;

  NodeId lead_transferee_ = kNoNode;
  // Once TimeoutNow went out, another node may win this term's successor election at once,
  // so this leader's lease can never again be trusted in this term.
  bool lease_revoked_ = false;
  LogIndex pending_conf_index_;
  uint64_t uncommitted_bytes_ = 0;

  // Heartbeat rounds: reads wait for a quorum to ack a round sent after they arrived.
  uint64_t round_ = 0;
  std::deque<std::pair<uint64_t, uint64_t>> round_ticks_;  // (first round, tick), ascending
  bool round_needed_ = false;
  std::deque<PendingRead> pending_reads_;
  std::vector<std::pair<uint64_t, NodeId>> reads_awaiting_commit_;

  bool bcast_entries_ = false;
  bool bcast_commit_ = false;

  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;
  SoftState prev_soft_;
  HardState prev_hard_;
  bool ready_outstanding_ = false;
  Handed handed_;
};

}  // namespace synod::raft
