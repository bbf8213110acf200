#include "raft/raft.h"

#include <algorithm>

#include "base/assert.h"

namespace synod::raft {

Raft::Raft(const Config& config)
    : cfg_(config),
      id_(config.id),
      rng_(config.random_seed ^ (config.id.value * 0x9e3779b97f4a7c15ULL)),
      log_(config.storage, config.apply_bytes_max) {
  SYNOD_ASSERT(id_ != kNoNode, "node id 0 is reserved");
  SYNOD_ASSERT(cfg_.heartbeat_interval_ticks > 0, "heartbeat interval must be positive");
  SYNOD_ASSERT(cfg_.election_timeout_ticks > cfg_.heartbeat_interval_ticks,
               "election timeout must exceed the heartbeat interval");
  SYNOD_ASSERT(cfg_.inflight_msgs_max > 0, "inflight window must be positive");
  const InitialState init = cfg_.storage->GetInitialState();
  conf_ = TrackerConfigFrom(init.conf_state);
  if (!init.hard_state.IsEmpty()) {
    SYNOD_ASSERT(init.hard_state.commit <= log_.LastIndex(), "persisted commit past the log");
    term_ = init.hard_state.term;
    vote_ = init.hard_state.vote;
    log_.CommitTo(init.hard_state.commit);
    restarted_ = term_ > Term(0);
  }
  if (cfg_.applied > LogIndex(0)) log_.AppliedTo(cfg_.applied);
  prev_hard_ = ReportedHardState();
  BecomeFollower(term_, kNoNode);
  prev_soft_ = SoftState{lead_, role_};
}

// ---- roles ----------------------------------------------------------------------------------

void Raft::Reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  votes_.clear();
  ResetProgress();
  pending_conf_index_ = LogIndex(0);
  uncommitted_bytes_ = 0;
  pending_reads_.clear();
  reads_awaiting_commit_.clear();
  round_needed_ = false;
  bcast_entries_ = bcast_commit_ = false;
}

void Raft::ResetProgress() {
  std::map<NodeId, Progress> next;
  auto add = [&](NodeId id, bool learner) {
    Progress pr(cfg_.inflight_msgs_max);
    pr.next = log_.LastIndex() + 1;
    pr.learner = learner;
    // Our own log counts toward commit only once it is durable (Ready contract).
    if (id == id_) pr.match = std::min(log_.LastIndex(), log_.LastStableIndex());
    next.emplace(id, std::move(pr));
  };
  for (NodeId id : conf_.voters.Ids()) add(id, false);
  for (NodeId id : conf_.learners) add(id, true);
  prs_ = std::move(next);
}

void Raft::ResetRandomizedElectionTimeout() {
  // Raft §5.2: randomized timeouts in [T, 2T) make split votes rare.
  const uint32_t t = cfg_.election_timeout_ticks;
  randomized_election_timeout_ = static_cast<uint32_t>(rng_.Between(t, 2 * t - 1));
}

void Raft::BecomeFollower(Term term, NodeId leader) {
  Reset(term);
  lead_ = leader;
  role_ = Role::kFollower;
}

void Raft::BecomePreCandidate() {
  SYNOD_ASSERT(role_ != Role::kLeader, "leader cannot become pre-candidate");
  // Thesis §9.6: a pre-election changes neither term nor vote.
  votes_.clear();
  lead_ = kNoNode;
  role_ = Role::kPreCandidate;
}

void Raft::BecomeCandidate() {
  SYNOD_ASSERT(role_ != Role::kLeader, "leader cannot become candidate");
  Reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::BecomeLeader() {
  SYNOD_ASSERT(role_ == Role::kCandidate, "only a candidate becomes leader");
  Reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  lease_revoked_ = false;
  auto self = prs_.find(id_);
  if (self != prs_.end()) self->second.BecomeReplicate();
  // Raft §5.4.2 / §8: a no-op entry of the new term commits everything before it and tells
  // the leader its commit index. Conf changes wait until it is applied (the fix for
  // single-server changes: a leader must commit an entry of its term before changing config).
  pending_conf_index_ = log_.LastIndex() + 1;
  const Payload noop;
  ProposeResult r = AppendProposals(std::span<const Payload>(&noop, 1), EntryType::kNormal);
  SYNOD_ASSERT(r.ok(), "the leader's no-op cannot be refused");
}

bool Raft::Promotable() const { return conf_.voters.Contains(id_); }

// Leader stickiness (thesis §4.2.3 and §6.4.1): while we believe a leader is alive, or for one
// election timeout after a restart (we may have acked a leader just before crashing), refuse
// to help depose it. This is what makes the leader's lease safe.
bool Raft::InLease() const {
  if (!cfg_.check_quorum) return false;
  if (lead_ != kNoNode && election_elapsed_ < cfg_.election_timeout_ticks) return true;
  return restarted_ && ticks_ < cfg_.election_timeout_ticks;
}

void Raft::Tick() {
  ++ticks_;
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    Campaign(/*transfer=*/false);
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= cfg_.election_timeout_ticks) {
    election_elapsed_ = 0;
    // Thesis §6.2: a leader that cannot reach a quorum for an election timeout steps down, so
    // clients go elsewhere instead of waiting on it.
    if (cfg_.check_quorum) {
      const bool active = QuorumActive();
      // Each round asks afresh who was heard from since the last one.
      for (auto& [id, pr] : prs_) pr.recent_active = id == id_;
      if (!active) {
        BecomeFollower(term_, kNoNode);
        return;
      }
    }
    // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
    AbortLeaderTransfer();
  }
  if (heartbeat_elapsed_ >= cfg_.heartbeat_interval_ticks) {
    heartbeat_elapsed_ = 0;
    BroadcastHeartbeat();
  }
}

// ---- elections (Raft §5.2, PreVote thesis §9.6) ---------------------------------------------

bool Raft::HasUnappliedConfChanges() const {
  if (log_.committed() <= log_.applied()) return false;
  auto ents = log_.Slice(log_.applied() + 1, log_.committed() + 1, UINT64_MAX);
  if (!ents.ok()) return false;
  return std::any_of(ents.value().begin(), ents.value().end(),
                     [](const Entry& e) { return e.type == EntryType::kConfChange; });
}

void Raft::Campaign(bool transfer) {
  if (role_ == Role::kLeader || !Promotable()) return;
  // A node must not campaign under a configuration it has not applied yet.
  if (HasUnappliedConfChanges()) return;
  StartElection(/*pre=*/cfg_.pre_vote && !transfer, transfer);
}

void Raft::StartElection(bool pre, bool transfer) {
  Term vote_term;
  MessageType type;
  if (pre) {
    BecomePreCandidate();
    vote_term = term_ + 1;
    type = MessageType::kPreVote;
  } else {
    BecomeCandidate();
    vote_term = term_;
    type = MessageType::kVote;
  }
  if (Poll(id_, true) == VoteResult::kWon) {
    // A single-voter group wins at once.
    if (pre) {
      StartElection(/*pre=*/false, transfer);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId id : conf_.voters.Ids()) {
    if (id == id_) continue;
    Message m;
    m.type = type;
    m.to = id;
    m.term = vote_term;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    m.transfer = transfer;
    Send(std::move(m));
  }
}

VoteResult Raft::Poll(NodeId id, bool granted) {
  votes_.emplace(id, granted);  // the first answer counts
  return conf_.voters.Vote([this](NodeId v) {
    auto it = votes_.find(v);
    if (it == votes_.end()) return -1;
    return it->second ? 1 : 0;
  });
}

void Raft::HandleVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  // Figure 2 RequestVote: grant if we have not voted for someone else in this term. A pre-vote
  // for a future term is granted on the log check alone.
  // Thesis §9.6: no pre-vote while we hear from a leader (or are one), so a node that was
  // merely partitioned cannot depose a working leader, with or without CheckQuorum.
  const bool leader_alive = role_ == Role::kLeader ||
                            (lead_ != kNoNode && election_elapsed_ < cfg_.election_timeout_ticks);
  const bool can_vote = vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                        (pre && m.term > term_ && (m.transfer || !leader_alive));
  const bool log_ok =
      cfg_.bugs.vote_without_log_check || log_.IsUpToDate(m.index, m.log_term);  // §5.4.1
  Message resp;
  resp.type = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  resp.to = m.from;
  if (can_vote && log_ok) {
    // The response carries the requested term so the candidate counts it in that term.
    resp.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    resp.term = term_;
    resp.reject = true;
  }
  Send(std::move(resp));
}

Status Raft::Step(const Message& m) {
  if (m.group != cfg_.group) return Status(ErrorCode::kInvalidArgument, "message for another group");
  if (m.to != id_) return Status(ErrorCode::kInvalidArgument, "message for another node");
  if (m.from == kNoNode) return Status(ErrorCode::kInvalidArgument, "message from node 0");
  const bool vote_req = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
  if (m.term == Term(0)) {
    // Forwarded proposals and reads carry no term: handled by role below.
  } else if (m.term > term_) {
    if (vote_req && !m.transfer && InLease()) return Status::Ok();
    if (m.type == MessageType::kPreVote) {
      // Never change term on a pre-vote request.
    } else if (m.type == MessageType::kPreVoteResponse && !m.reject) {
      // A granted pre-vote carries the future term; it is counted below.
    } else if (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnapshot) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote) &&
        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      // A stale leader learns our term and steps down; otherwise, with PreVote or
      // CheckQuorum, it could keep a partitioned node from ever rejoining.
      Message resp;
      resp.type = MessageType::kAppendResponse;
      resp.to = m.from;
      Send(std::move(resp));
    } else if (m.type == MessageType::kPreVote) {
      Message resp;
      resp.type = MessageType::kPreVoteResponse;
      resp.to = m.from;
      resp.reject = true;
      Send(std::move(resp));
    }
    return Status::Ok();
  }
  if (vote_req) {
    HandleVoteRequest(m);
    return Status::Ok();
  }
  switch (role_) {
    case Role::kLeader: StepLeader(m); break;
    case Role::kCandidate:
    case Role::kPreCandidate: StepCandidate(m); break;
    case Role::kFollower: StepFollower(m); break;
  }
  return Status::Ok();
}

void Raft::StepCandidate(const Message& m) {
  const MessageType want =
      role_ == Role::kPreCandidate ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  switch (m.type) {
    case MessageType::kAppend:
      BecomeFollower(m.term, m.from);
      HandleAppend(m);
      return;
    case MessageType::kHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      return;
    case MessageType::kSnapshot:
      BecomeFollower(m.term, m.from);
      HandleSnapshot(m);
      return;
    default: break;
  }
  if (m.type != want) return;
  switch (Poll(m.from, !m.reject)) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        StartElection(/*pre=*/false, /*transfer=*/false);
      } else {
        BecomeLeader();
        BroadcastAppend(/*send_if_empty=*/true);
      }
      break;
    case VoteResult::kLost: BecomeFollower(term_, kNoNode); break;
    case VoteResult::kPending: break;
  }
}

void Raft::StepFollower(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleAppend(m);
      break;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleHeartbeat(m);
      break;
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleSnapshot(m);
      break;
    case MessageType::kTimeoutNow:
      // Thesis §3.10: the leader chose us; campaign at once, skipping the pre-vote.
      Campaign(/*transfer=*/true);
      break;
    case MessageType::kReadIndexResponse:
      read_states_.push_back(ReadState{m.context, m.index});
      break;
    default: break;  // responses from an old leadership, forwarded requests we cannot serve
  }
}

// ---- follower side of replication (Raft §5.3, §7) -------------------------------------------

void Raft::HandleAppend(const Message& m) {
  Message resp;
  resp.type = MessageType::kAppendResponse;
  resp.to = m.from;
  resp.context = m.context;
  if (m.index < log_.committed()) {
    // Everything up to our commit index is known to match; say so.
    resp.index = log_.committed();
    Send(std::move(resp));
    return;
  }
  if (auto last = log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last;
    Send(std::move(resp));
    return;
  }
  // Consistency check failed: reject with a hint so the leader can skip a whole term.
  const LogIndex hint = std::min(m.index, log_.LastIndex());
  auto [hint_index, hint_term] = log_.FindConflictByTerm(hint, m.log_term);
  resp.reject = true;
  resp.index = m.index;
  resp.reject_hint = hint_index;
  resp.log_term = hint_term;
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const Message& m) {
  // The leader sends min(our match, its commit), so we hold every entry up to it.
  log_.CommitTo(m.commit);
  Message resp;
  resp.type = MessageType::kHeartbeatResponse;
  resp.to = m.from;
  resp.context = m.context;
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const Message& m) {
  SYNOD_ASSERT(m.snapshot.has_value(), "snapshot message without a snapshot");
  Message resp;
  resp.type = MessageType::kAppendResponse;
  resp.to = m.from;
  resp.index = Restore(*m.snapshot) ? log_.LastIndex() : log_.committed();
  Send(std::move(resp));
}

bool Raft::Restore(const Snapshot& snap) {
  if (snap.metadata.index <= log_.committed()) return false;
  if (log_.MatchTerm(snap.metadata.index, snap.metadata.term)) {
    // We already hold the snapshot's last entry: just fast-forward the commit index.
    log_.CommitTo(snap.metadata.index);
    return false;
  }
  log_.Restore(snap);
  conf_ = TrackerConfigFrom(snap.metadata.conf_state);
  ResetProgress();
  return true;
}

// ---- membership (Raft §6, thesis §4) --------------------------------------------------------

ConfState Raft::ApplyConfChange(const ConfChange& cc) {
  auto next = ApplyConfChangeTo(conf_, cc);
  // An invalid change is refused identically on every member (they all apply the same log).
  if (next.ok()) SwitchTo(next.value());
  return conf_.ToConfState();
}

void Raft::SwitchTo(const TrackerConfig& cfg) {
  if (role_ == Role::kLeader) {
    for (const auto& [id, pr] : prs_) {
      const bool learner = std::binary_search(cfg.learners.begin(), cfg.learners.end(), id);
      if (id != id_ && !cfg.voters.Contains(id) && !learner) SendFarewell(id, pr);
    }
  }
  conf_ = cfg;
  std::map<NodeId, Progress> next;
  auto keep = [&](NodeId id, bool learner) {
    auto it = prs_.find(id);
    if (it != prs_.end()) {
      it->second.learner = learner;
      next.emplace(id, std::move(it->second));
      return;
    }
    Progress pr(cfg_.inflight_msgs_max);
    pr.next = log_.LastIndex() + 1;
    pr.learner = learner;
    pr.recent_active = true;  // give a new member one election timeout to show up
    next.emplace(id, std::move(pr));
  };
  for (NodeId id : conf_.voters.Ids()) keep(id, false);
  for (NodeId id : conf_.learners) keep(id, true);
  prs_ = std::move(next);

  if (role_ != Role::kLeader) return;
  if (!conf_.voters.Contains(id_)) {
    // Thesis §4.2.2: a leader removed from the configuration steps down once the change is
    // committed (it is applied only when committed).
    BecomeFollower(term_, kNoNode);
    return;
  }
  if (MaybeCommit()) bcast_commit_ = true;
  bcast_entries_ = true;
  if (lead_transferee_ != kNoNode && !conf_.voters.incoming.Contains(lead_transferee_)) {
    AbortLeaderTransfer();
  }
}

// A member removed from the configuration hears nothing more from the leader, so it might never
// learn that its removal committed. One last append carrying the log up to the removal and the
// commit index lets it apply the change and stop itself (best effort: it may be lost).
void Raft::SendFarewell(NodeId to, const Progress& pr) {
  const std::optional<Term> prev_term = log_.TermOf(pr.match);
  auto ents = log_.Slice(pr.match + 1, log_.LastIndex() + 1, cfg_.append_bytes_max);
  if (!prev_term.has_value() || !ents.ok()) return;
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.index = pr.match;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  m.entries = std::move(ents.value());
  Send(std::move(m));
}

void Raft::Send(Message m) {
  m.group = cfg_.group;
  m.from = id_;
  // Forwarded requests carry no term; every other message carries ours unless it was set
  // explicitly (vote responses).
  if (m.term == Term(0) && m.type != MessageType::kPropose && m.type != MessageType::kReadIndex) {
    m.term = term_;
  }
  msgs_.push_back(std::move(m));
}

}  // namespace synod::raft
