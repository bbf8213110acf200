// The leader's half of Raft: log replication with pipelining (Raft §5.3), commitment
// (§5.4.2), heartbeats, check-quorum (thesis §6.2), reads (thesis §6.4) and leadership
// transfer (thesis §3.10).
#include <algorithm>

#include "base/assert.h"
#include "raft/raft.h"

namespace synod::raft {

void Raft::StepLeader(const Message& m) {
  switch (m.type) {
    case MessageType::kAppendResponse: HandleAppendResponse(m); break;
    case MessageType::kHeartbeatResponse: HandleHeartbeatResponse(m); break;
    case MessageType::kReadIndex: HandleReadRequest(m.context, m.from); break;
    case MessageType::kPropose: {
      std::vector<Payload> data;
      for (const Entry& e : m.entries) data.push_back(e.data);
      // A forwarded proposal that is refused is simply lost: the client times out.
      (void)AppendProposals(data, EntryType::kNormal);
      break;
    }
    default: break;  // stale vote responses and the like
  }
}

ProposeResult Raft::Propose(std::span<const Payload> data, EntryType type) {
  if (role_ == Role::kLeader) return AppendProposals(data, type);
  if (cfg_.forward_proposals && lead_ != kNoNode && type == EntryType::kNormal) {
    Message m;
    m.type = MessageType::kPropose;
    m.to = lead_;
    for (const Payload& p : data) m.entries.push_back(Entry{Term(0), LogIndex(0), type, p});
    Send(std::move(m));
    return ProposeResult{ErrorCode::kOk, LogIndex(0), Term(0), lead_};
  }
  return ProposeResult{ErrorCode::kNotLeader, {}, {}, lead_};
}

ProposeResult Raft::ProposeConfChange(const ConfChange& cc) {
  if (role_ != Role::kLeader) return ProposeResult{ErrorCode::kNotLeader, {}, {}, lead_};
  // One change at a time, and none before this leader's no-op is applied.
  if (pending_conf_index_ > log_.applied()) {
    return ProposeResult{ErrorCode::kProposalDropped, {}, {}, lead_};
  }
  if (!ApplyConfChangeTo(conf_, cc).ok()) {
    return ProposeResult{ErrorCode::kInvalidArgument, {}, {}, lead_};
  }
  const Payload data(EncodeConfChange(cc));
  ProposeResult r = AppendProposals(std::span<const Payload>(&data, 1), EntryType::kConfChange);
  if (r.ok()) pending_conf_index_ = r.index;
  return r;
}

ProposeResult Raft::AppendProposals(std::span<const Payload> data, EntryType type) {
  SYNOD_ASSERT(role_ == Role::kLeader, "only the leader appends proposals");
  if (lead_transferee_ != kNoNode || prs_.find(id_) == prs_.end()) {
    return ProposeResult{ErrorCode::kProposalDropped, {}, {}, lead_};
  }
  uint64_t bytes = 0;
  for (const Payload& p : data) bytes += p.size();
  // Bound the memory of entries that cannot commit (e.g. a quorum is down); an empty
  // uncommitted tail always admits one batch, so huge entries are not stuck forever.
  if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + bytes > cfg_.uncommitted_bytes_max) {
    return ProposeResult{ErrorCode::kProposalDropped, {}, {}, lead_};
  }
  std::vector<Entry> ents;
  ents.reserve(data.size());
  LogIndex index = log_.LastIndex();
  for (const Payload& p : data) ents.push_back(Entry{term_, ++index, type, p});
  const LogIndex first = log_.LastIndex() + 1;
  log_.Append(std::move(ents));
  uncommitted_bytes_ += bytes;
  // Sent at the next GetReady, so all proposals until then share one append per follower.
  bcast_entries_ = true;
  return ProposeResult{ErrorCode::kOk, first, term_, id_};
}

void Raft::HandleAppendResponse(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (m.reject) {
    // §5.3 with fast backtracking: jump to the last index of a term the follower may share.
    LogIndex probe = m.reject_hint;
    if (m.log_term > Term(0)) probe = log_.FindConflictByTerm(m.reject_hint, m.log_term).first;
    if (pr.MaybeDecrTo(m.index, probe)) {
      if (pr.state == ProgressState::kReplicate) pr.BecomeProbe();
      MaybeSendAppend(m.from, /*send_if_empty=*/true);
    }
    return;
  }
  const bool was_paused = pr.IsPaused();
  if (!pr.MaybeUpdate(m.index)) return;
  switch (pr.state) {
    case ProgressState::kProbe: pr.BecomeReplicate(); break;
    case ProgressState::kSnapshot:
      if (pr.match >= pr.pending_snapshot) {
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case ProgressState::kReplicate: pr.inflights.FreeLE(m.index); break;
  }
  if (MaybeCommit()) {
    bcast_commit_ = true;
  } else if (was_paused) {
    MaybeSendAppend(m.from, /*send_if_empty=*/true);
  }
  // Pipelining: keep the window full while there is more to send.
  while (MaybeSendAppend(m.from, /*send_if_empty=*/false)) {
  }
  if (m.from == lead_transferee_ && pr.match == log_.LastIndex()) SendTimeoutNow(m.from);
}

void Raft::HandleHeartbeatResponse(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.probe_sent = false;
  if (m.context > pr.acked_round) {
    pr.acked_round = m.context;
    pr.acked_tick = std::max(pr.acked_tick, TickOfRound(m.context));
  }
  // A full window after lost acks would stall forever: a live follower frees one slot.
  if (pr.state == ProgressState::kReplicate && pr.inflights.Full()) pr.inflights.FreeFirstOne();
  if (pr.match < log_.LastIndex()) MaybeSendAppend(m.from, /*send_if_empty=*/true);
  ServePendingReads();
}

bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  if (to == id_) return false;
  Progress& pr = prs_.at(to);
  if (pr.IsPaused()) return false;
  const LogIndex prev = pr.next - 1;
  const std::optional<Term> prev_term = log_.TermOf(prev);
  auto ents = log_.Slice(pr.next, log_.LastIndex() + 1, cfg_.append_bytes_max);
  if (!prev_term.has_value() || !ents.ok()) {
    // The entries are compacted away: the follower needs a snapshot (Raft §7). Only to a
    // follower we recently heard from, so a dead one is not sent snapshot after snapshot.
    if (!pr.recent_active) return false;
    auto snap = log_.GetSnapshot();
    if (!snap.ok()) return false;
    pr.BecomeSnapshot(snap.value().metadata.index);
    Message m;
    m.type = MessageType::kSnapshot;
    m.to = to;
    m.snapshot = std::move(snap.value());
    Send(std::move(m));
    return true;
  }
  if (ents.value().empty() && !send_if_empty) return false;
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  m.entries = std::move(ents.value());
  if (!m.entries.empty()) {
    const LogIndex last = m.entries.back().index;
    if (pr.state == ProgressState::kReplicate) {
      pr.OptimisticUpdate(last);
      pr.inflights.Add(last);
    }
  }
  // In probe state one message at a time, until it is answered.
  if (pr.state == ProgressState::kProbe) pr.probe_sent = true;
  Send(std::move(m));
  return true;
}

void Raft::BroadcastAppend(bool send_if_empty) {
  for (auto& [id, pr] : prs_) {
    if (id == id_) continue;
    bool sent = MaybeSendAppend(id, send_if_empty);
    while (sent && pr.state == ProgressState::kReplicate) sent = MaybeSendAppend(id, false);
  }
}

void Raft::BroadcastHeartbeat() {
  ++round_;
  if (round_ticks_.empty() || round_ticks_.back().second != ticks_) {
    round_ticks_.emplace_back(round_, ticks_);
  }
  // Rounds older than two election timeouts can no longer support a lease.
  while (round_ticks_.size() > 1 &&
         round_ticks_.front().second + 2 * cfg_.election_timeout_ticks < ticks_) {
    round_ticks_.pop_front();
  }
  round_needed_ = false;
  for (auto& [id, pr] : prs_) {
    if (id == id_) {
      pr.acked_round = round_;
      pr.acked_tick = ticks_;
      continue;
    }
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = id;
    m.commit = std::min(pr.match, log_.committed());
    m.context = round_;
    Send(std::move(m));
  }
  ServePendingReads();  // a single-voter group needs no acks
}

uint64_t Raft::TickOfRound(uint64_t round) const {
  uint64_t tick = 0;
  for (const auto& [first, t] : round_ticks_) {
    if (first > round) break;
    tick = t;
  }
  return tick;
}

void Raft::FlushBroadcasts() {
  if (role_ != Role::kLeader) return;
  if (bcast_entries_ || bcast_commit_) BroadcastAppend(/*send_if_empty=*/bcast_commit_);
  bcast_entries_ = bcast_commit_ = false;
  if (round_needed_) BroadcastHeartbeat();
}

bool Raft::MaybeCommit() {
  const uint64_t q = conf_.voters.QuorumValue([this](NodeId id) {
    auto it = prs_.find(id);
    return it == prs_.end() ? 0 : it->second.match.value;
  });
  const bool was_in_term = CommittedInCurrentTerm();
  if (!log_.MaybeCommit(LogIndex(q), term_, !cfg_.bugs.commit_old_term_by_count)) return false;
  if (!was_in_term && CommittedInCurrentTerm()) {
    // Reads that arrived before this leader's first commit can now get a read index.
    auto waiting = std::move(reads_awaiting_commit_);
    reads_awaiting_commit_.clear();
    for (const auto& [ctx, from] : waiting) HandleReadRequest(ctx, from);
  }
  return true;
}

bool Raft::CommittedInCurrentTerm() const { return log_.TermOf(log_.committed()) == term_; }

bool Raft::QuorumActive() const {
  return conf_.voters.Vote([this](NodeId id) {
    if (id == id_) return 1;
    auto it = prs_.find(id);
    return it != prs_.end() && it->second.recent_active ? 1 : 0;
  }) == VoteResult::kWon;
}

// Thesis §6.4.1. A quorum acked a heartbeat this leader sent at tick T. Each of those
// followers then refuses to vote for anyone else until a full election timeout after it
// received that heartbeat (InLease), so no new leader can exist before T + election timeout
// on their clocks. Our lease ends lease_drift_ticks earlier to absorb clock drift.
bool Raft::LeaseValid() const {
  if (role_ != Role::kLeader || lease_revoked_ || !cfg_.check_quorum) return false;
  const uint64_t t = conf_.voters.QuorumValue([this](NodeId id) {
    auto it = prs_.find(id);
    return it == prs_.end() ? 0 : it->second.acked_tick;
  });
  const uint64_t lease_ticks = cfg_.election_timeout_ticks > cfg_.lease_drift_ticks
                                   ? cfg_.election_timeout_ticks - cfg_.lease_drift_ticks
                                   : 0;
  return t > 0 && t + lease_ticks > ticks_;
}

void Raft::ReadIndex(uint64_t context) {
  if (role_ == Role::kLeader) {
    HandleReadRequest(context, id_);
  } else if (lead_ != kNoNode) {
    Message m;
    m.type = MessageType::kReadIndex;
    m.to = lead_;
    m.context = context;
    Send(std::move(m));
  }
  // No leader known: dropped; the caller retries.
}

void Raft::HandleReadRequest(uint64_t context, NodeId from) {
  const size_t queued = pending_reads_.size() + reads_awaiting_commit_.size();
  if (queued >= cfg_.read_requests_max) return;  // bounded: the caller times out and retries
  // Thesis §6.4 step 1: until an entry of its term commits, the leader does not know the
  // commit index; wait for it.
  if (!CommittedInCurrentTerm()) {
    reads_awaiting_commit_.emplace_back(context, from);
    return;
  }
  const LogIndex index = log_.committed();
  const bool single = !conf_.voters.IsJoint() && conf_.voters.incoming.size() == 1 &&
                      conf_.voters.incoming.Contains(id_);
  const bool lease = cfg_.read_mode == ReadMode::kLeaseBased &&
                     (cfg_.bugs.lease_read_without_lease || LeaseValid());
  if (single || lease) {
    ServeRead(context, from, index);
    return;
  }
  // Step 2: confirm leadership with a heartbeat round sent after the request arrived. Reads
  // arriving before that round goes out share it (batching).
  pending_reads_.push_back(PendingRead{context, from, index, round_ + 1});
  round_needed_ = true;
}

void Raft::ServeRead(uint64_t context, NodeId from, LogIndex index) {
  if (from == id_) {
    read_states_.push_back(ReadState{context, index});
    return;
  }
  Message m;
  m.type = MessageType::kReadIndexResponse;
  m.to = from;
  m.context = context;
  m.index = index;
  Send(std::move(m));
}

void Raft::ServePendingReads() {
  if (pending_reads_.empty()) return;
  const uint64_t acked = conf_.voters.QuorumValue([this](NodeId id) {
    auto it = prs_.find(id);
    return it == prs_.end() ? 0 : it->second.acked_round;
  });
  while (!pending_reads_.empty() && pending_reads_.front().round <= acked) {
    const PendingRead r = pending_reads_.front();
    pending_reads_.pop_front();
    ServeRead(r.context, r.from, r.index);
  }
}

void Raft::TransferLeadership(NodeId target) {
  if (role_ != Role::kLeader || target == id_) return;
  auto it = prs_.find(target);
  if (it == prs_.end() || it->second.learner) return;
  if (lead_transferee_ == target) return;
  lead_transferee_ = target;
  // The transfer must finish within an election timeout or it is abandoned.
  election_elapsed_ = 0;
  if (it->second.match == log_.LastIndex()) {
    SendTimeoutNow(target);
  } else {
    MaybeSendAppend(target, /*send_if_empty=*/true);
  }
}

void Raft::SendTimeoutNow(NodeId to) {
  lease_revoked_ = true;
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  Send(std::move(m));
}

void Raft::ReportUnreachable(NodeId id) {
  auto it = prs_.find(id);
  if (role_ != Role::kLeader || it == prs_.end()) return;
  // Stop optimistic pipelining to a peer that is not receiving; probe instead.
  if (it->second.state == ProgressState::kReplicate) it->second.BecomeProbe();
}

void Raft::ReportSnapshot(NodeId id, bool success) {
  auto it = prs_.find(id);
  if (role_ != Role::kLeader || it == prs_.end()) return;
  Progress& pr = it->second;
  if (pr.state != ProgressState::kSnapshot) return;
  if (!success) pr.pending_snapshot = LogIndex(0);
  // Wait for the follower's answer (or a heartbeat response) before probing again.
  pr.BecomeProbe();
  pr.probe_sent = true;
}

void Raft::MaybeAutoLeave() {
  if (role_ != Role::kLeader || !conf_.auto_leave || !conf_.voters.IsJoint()) return;
  if (pending_conf_index_ > log_.applied()) return;
  // Thesis §4.3: once the joint config is applied, the leader proposes the final one.
  ConfChange leave;
  ProposeResult r = ProposeConfChange(leave);
  (void)r;  // refused only while a transfer runs; retried at the next Advance
}

}  // namespace synod::raft
