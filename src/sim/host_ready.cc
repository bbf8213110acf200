// NodeHost: the Ready cycle (raft/ready.h ORDERING CONTRACT), applying to the state machine,
// client requests, reads and local snapshots.
#include "base/assert.h"
#include "sim/host.h"
#include "sim/records.h"

namespace synod::sim {

using raft::Entry;
using raft::LogIndex;
using raft::NodeId;
using raft::Term;

namespace {
constexpr size_t kPendingReadsMax = 1024;     // reads Raft dropped are forgotten beyond this
constexpr int kReadiesPerEventMax = 100'000;  // a Ready loop longer than this is a livelock
}  // namespace

void NodeHost::Drive() {
  int n = 0;
  while (running() && !in_flight_ && raw_->HasReady()) {
    SYNOD_ASSERT(++n < kReadiesPerEventMax, "endless stream of Readies");
    StartReady(raw_->GetReady());
  }
}

void NodeHost::StartReady(raft::Ready rd) {
  if (rd.soft_state && rd.soft_state->role == raft::Role::kLeader) CheckLeaderCompleteness(rd);
  if (rd.hard_state && raw_->role() == raft::Role::kLeader && rd.hard_state->term == led_term_) {
    CheckCommitRule(rd);
  }
  // Step 1: persist. Everything goes to the disk's buffer; a sync makes it durable.
  Persist(rd);
  const bool needs_sync = rd.must_sync || rd.snapshot.has_value() || !rd.entries.empty();
  // Thesis §10.2.1: the leader's appends leave while its own write is in progress.
  if (needs_sync) SendBeforePersist(rd.messages);
  in_flight_ = InFlight{std::move(rd), disk_.written_bytes()};
  if (!needs_sync) {
    // Only the commit index changed: written without waiting (a lost commit index is
    // re-learned from the leader).
    FinishReady();
    return;
  }
  const Micros latency =
      static_cast<Micros>(rng_.Between(static_cast<uint64_t>(options_.sync_latency_min_us),
                                       static_cast<uint64_t>(options_.sync_latency_max_us)));
  const uint64_t incarnation = incarnation_, mark = in_flight_->sync_mark;
  world_.queue->After(latency, [this, incarnation, mark] { OnSyncDone(incarnation, mark); });
}

void NodeHost::Persist(const raft::Ready& rd) {
  // The order the contract asks for: snapshot, then entries, then hard state. Replay applies
  // records in the same order.
  if (rd.snapshot) disk_.Append(RecordType::kSnapshot, EncodeSnapshot(*rd.snapshot));
  if (!rd.entries.empty()) disk_.Append(RecordType::kEntries, EncodeEntries(rd.entries));
  if (rd.hard_state) disk_.Append(RecordType::kHardState, EncodeHardState(*rd.hard_state));
}

void NodeHost::OnSyncDone(uint64_t incarnation, uint64_t mark) {
  if (incarnation != incarnation_) return;  // crashed before the sync finished
  // The kernel finishes the write even while the process is stopped; the process learns of it
  // only when it runs again.
  disk_.SyncedTo(mark);
  Input([this] { FinishReady(); });
}

void NodeHost::FinishReady() {
  SYNOD_ASSERT(in_flight_.has_value(), "sync completion without a Ready in flight");
  raft::Ready& rd = in_flight_->ready;
  MakeVisible(rd);                               // end of step 1
  SendAll(rd.messages);                          // step 2
  if (rd.snapshot) ApplySnapshot(*rd.snapshot);  // step 3
  for (const Entry& e : rd.committed_entries) ApplyEntry(e);
  for (const raft::ReadState& rs : rd.read_states) {
    auto it = pending_reads_.find(rs.context);
    if (it == pending_reads_.end()) continue;  // from an earlier incarnation, or forgotten
    world_.checker->OnReadIndex(id_, rs.index, it->second.committed_before);
    reads_awaiting_apply_.emplace(rs.index, std::move(it->second.req));
    pending_reads_.erase(it);
  }
  ServeReads();
  MaybeTakeSnapshot();
  raw_->Advance();  // step 4
  in_flight_.reset();
}

void NodeHost::MakeVisible(const raft::Ready& rd) {
  if (rd.snapshot) {
    const LogIndex s = rd.snapshot->metadata.index;
    (void)storage_->ApplySnapshot(*rd.snapshot);
    // Installing a snapshot replaces the log (Raft §7); what was acked past it is gone.
    if (promises_.log_index > s) {
      promises_.log_index = s;
      promises_.log_term = rd.snapshot->metadata.term;
    }
  }
  if (!rd.entries.empty()) {
    const LogIndex first = rd.entries.front().index;
    std::optional<Term> prev;
    Result<Term> t = storage_->TermOf(first - 1);
    if (t.ok()) prev = t.value();
    // Entries from `first` replace the stored suffix: acks for what they replace were for
    // entries a new leader may legitimately overwrite (they were not committed).
    if (first <= promises_.log_index) {
      promises_.log_index = first - 1;
      promises_.log_term = prev.value_or(Term(0));
    }
    storage_->Append(rd.entries);
    world_.checker->OnDurableAppend(id_, prev, rd.entries);
  }
  if (rd.hard_state) storage_->SetHardState(*rd.hard_state);
}

void NodeHost::SendBeforePersist(std::vector<raft::Message>& msgs) {
  std::vector<raft::Message> early, later;
  for (raft::Message& m : msgs) {
    (raft::MaySendBeforePersist(m) ? early : later).push_back(std::move(m));
  }
  msgs = std::move(later);
  SendAll(early);
}

void NodeHost::SendAll(std::vector<raft::Message>& msgs) {
  for (raft::Message& m : msgs) {
    if (m.type == raft::MessageType::kAppendResponse && !m.reject &&
        m.index > promises_.log_index) {
      Result<Term> t = storage_->TermOf(m.index);
      if (t.ok()) {
        promises_.log_index = m.index;
        promises_.log_term = t.value();
      }
    }
    const bool vote_grant = m.type == raft::MessageType::kVoteResponse && !m.reject;
    if (vote_grant) {
      promises_.vote_term = m.term;
      promises_.vote_for = m.to;
    }
    world_.send(std::move(m));
    if (vote_grant && world_.vote_granted) world_.vote_granted(id_);
  }
  msgs.clear();
}

void NodeHost::ApplySnapshot(const raft::Snapshot& snap) {
  const bool restored = kv_.Restore(snap.data.view());
  SYNOD_ASSERT(restored, "snapshot image from a peer does not decode");
  applied_ = snap.metadata.index;
  conf_ = snap.metadata.conf_state;
  world_.checker->OnStateAt(id_, snap.metadata.index, snap.metadata.term, kv_.Hash());
  TraceEvent ev;
  ev.time_us = world_.queue->now();
  ev.kind = TraceKind::kSnapshot;
  ev.node = static_cast<uint32_t>(id_.value);
  ev.a = snap.metadata.index.value;
  ev.b = snap.metadata.term.value;
  ev.flag = true;
  world_.trace->Add(std::move(ev));
}

void NodeHost::ApplyEntry(const Entry& e) {
  if (e.index != applied_ + 1) {
    world_.checker->Fail("n" + std::to_string(id_.value) + " was handed entry " +
                         std::to_string(e.index.value) + " to apply after applying " +
                         std::to_string(applied_.value));
  }
  world_.checker->OnApply(id_, e);
  applied_ = e.index;
  ++applied_entries_;
  if (e.type == raft::EntryType::kConfChange) {
    std::optional<raft::ConfChange> cc = raft::DecodeConfChange(e.data.view());
    if (!cc) {
      world_.checker->Fail("undecodable conf change at index " + std::to_string(e.index.value));
      return;
    }
    conf_ = raw_->ApplyConfChange(*cc);
    std::string text = "index " + std::to_string(e.index.value) + ": voters";
    for (NodeId v : conf_.voters) text += " " + std::to_string(v.value);
    if (!conf_.voters_outgoing.empty()) {
      text += " (joint with";
      for (NodeId v : conf_.voters_outgoing) text += " " + std::to_string(v.value);
      text += ")";
    }
    text += " learners";
    for (NodeId v : conf_.learners) text += " " + std::to_string(v.value);
    world_.trace->Note(world_.queue->now(), TraceKind::kConfChange,
                       static_cast<uint32_t>(id_.value), std::move(text));
    return;
  }
  if (!e.data.empty()) ApplyCommand(e);
}

void NodeHost::ApplyCommand(const Entry& e) {
  std::optional<Command> cmd = DecodeCommand(e.data.view());
  if (!cmd) {
    world_.checker->Fail("undecodable command at index " + std::to_string(e.index.value));
    return;
  }
  TraceEvent ev;
  ev.time_us = world_.queue->now();
  ev.kind = TraceKind::kApply;
  ev.node = static_cast<uint32_t>(id_.value);
  ev.a = e.index.value;
  ev.b = e.term.value;
  ev.c = cmd->client;
  ev.d = cmd->request;
  world_.trace->Add(std::move(ev));
  if (cmd->kind == CommandKind::kProbe) {
    if (cmd->request > probe_applied_) probe_applied_ = cmd->request;
    return;
  }
  CommandResult result;
  const ApplyStatus status = kv_.Apply(*cmd, &result);
  if (status == ApplyStatus::kStale) return;
  auto it = pending_writes_.find(cmd->client);
  if (it == pending_writes_.end() || it->second.request != cmd->request) return;
  const ClientRequest req = std::move(it->second);
  pending_writes_.erase(it);
  Reply(req, ReplyStatus::kOk, raft::kNoNode, result);
}

void NodeHost::HandleClientNow(const ClientRequest& req) {
  if (req.kind == RequestKind::kGet && !req.read_via_log) {
    if (raw_->leader() == raft::kNoNode) {
      Reply(req, ReplyStatus::kNotLeader, raft::kNoNode, {});
      return;
    }
    // The incarnation keeps contexts unique across restarts: a ReadIndex answer meant for the
    // previous process must not serve a new request.
    const uint64_t context = (incarnation_ << 40) | ++next_read_seq_;
    if (pending_reads_.size() >= kPendingReadsMax) pending_reads_.erase(pending_reads_.begin());
    pending_reads_.emplace(context, PendingRead{req, world_.checker->committed_max()});
    raw_->ReadIndex(context);
    return;
  }
  if (world_.queue->now() >= req.deadline_us) return;  // the client has given up
  Command cmd;
  cmd.kind = req.kind == RequestKind::kGet   ? CommandKind::kGet
             : req.kind == RequestKind::kPut ? CommandKind::kPut
                                             : CommandKind::kCas;
  cmd.client = req.client;
  cmd.request = req.request;
  cmd.key = req.key;
  cmd.value = req.value;
  cmd.expected = req.expected;
  const raft::ProposeResult r = raw_->Propose(raft::Payload(EncodeCommand(cmd)));
  TraceEvent ev;
  ev.time_us = world_.queue->now();
  ev.kind = r.ok() ? TraceKind::kPropose : TraceKind::kProposeFail;
  ev.node = static_cast<uint32_t>(id_.value);
  ev.a = r.index.value;
  ev.b = r.term.value;
  ev.c = req.client;
  ev.d = req.request;
  if (!r.ok()) ev.text = ErrorCodeName(r.code);
  world_.trace->Add(std::move(ev));
  if (!r.ok()) {
    Reply(req,
          r.code == ErrorCode::kNotLeader ? ReplyStatus::kNotLeader : ReplyStatus::kUnavailable,
          r.leader_hint, {});
    return;
  }
  pending_writes_[req.client] = req;
  if (world_.proposed) world_.proposed(req.client, req.request);
}

void NodeHost::ServeReads() {
  while (!reads_awaiting_apply_.empty() && reads_awaiting_apply_.begin()->first <= applied_) {
    ServeRead(reads_awaiting_apply_.begin()->second);
    reads_awaiting_apply_.erase(reads_awaiting_apply_.begin());
  }
}

void NodeHost::ServeRead(const ClientRequest& req) {
  CommandResult result;
  result.value = kv_.Get(req.key);
  Reply(req, ReplyStatus::kOk, raft::kNoNode, std::move(result));
}

void NodeHost::Reply(const ClientRequest& req, ReplyStatus status, NodeId hint,
                     CommandResult result) {
  ClientReply reply;
  reply.client = req.client;
  reply.request = req.request;
  reply.attempt = req.attempt;
  reply.node = static_cast<uint32_t>(id_.value);
  reply.status = status;
  reply.leader_hint = hint;
  reply.result = std::move(result);
  world_.reply(reply);
}

void NodeHost::MaybeTakeSnapshot() {
  const LogIndex snap_index = storage_->GetSnapshot().metadata.index;
  if (applied_.value < snap_index.value + options_.snapshot_interval_entries) return;
  if (applied_ > storage_->LastIndex()) return;  // applied past the durable log: wait
  const Result<Term> term = storage_->TermOf(applied_);
  SYNOD_ASSERT(term.ok(), "applied entry missing from storage");
  const Status s = storage_->CreateSnapshot(applied_, conf_, raft::Payload(kv_.Image()));
  SYNOD_ASSERT(s.ok(), "CreateSnapshot at the applied index failed");
  world_.checker->OnStateAt(id_, applied_, term.value(), kv_.Hash());
  if (applied_.value > options_.compaction_keep_entries) {
    const LogIndex compact_to = applied_ - options_.compaction_keep_entries;
    if (compact_to >= storage_->FirstIndex()) {
      const Status c = storage_->Compact(compact_to);
      SYNOD_ASSERT(c.ok(), "Compact below the applied index failed");
    }
  }
  RewriteDisk();
  TraceEvent ev;
  ev.time_us = world_.queue->now();
  ev.kind = TraceKind::kSnapshot;
  ev.node = static_cast<uint32_t>(id_.value);
  ev.a = applied_.value;
  ev.b = term.value().value;
  world_.trace->Add(std::move(ev));
}

void NodeHost::RewriteDisk() {
  // A checkpoint: the disk becomes [snapshot, hard state, entries after the snapshot]. It is
  // written as a new file and renamed over the old one, so it is atomic and durable.
  const raft::Snapshot snap = storage_->GetSnapshot();
  std::vector<DiskRecord> records;
  records.push_back({RecordType::kSnapshot, EncodeSnapshot(snap)});
  records.push_back({RecordType::kHardState, EncodeHardState(storage_->hard_state())});
  const LogIndex lo = snap.metadata.index + 1, hi = storage_->LastIndex() + 1;
  if (lo < hi) {
    Result<std::vector<Entry>> ents = storage_->Entries(lo, hi, UINT64_MAX);
    SYNOD_ASSERT(ents.ok(), "entries after the snapshot are in storage");
    records.push_back({RecordType::kEntries, EncodeEntries(ents.value())});
  }
  disk_.ReplaceAll(records);
}

void NodeHost::CheckCommitRule(const raft::Ready& rd) {
  const LogIndex commit = rd.hard_state->commit;
  if (commit <= led_start_commit_) return;
  std::optional<Term> term;
  if (!rd.entries.empty() && commit >= rd.entries.front().index &&
      commit <= rd.entries.back().index) {
    term = rd.entries[commit.value - rd.entries.front().index.value].term;
  } else if (Result<Term> t = storage_->TermOf(commit); t.ok()) {
    term = t.value();
  }
  if (!term) return;  // compacted: long since committed
  world_.checker->OnLeaderCommit(id_, led_term_, led_start_commit_, commit, *term);
  // Raft counted replicas with the configuration it has applied so far, which is ours until
  // this Ready's entries are applied (conf changes take effect when applied).
  world_.checker->RecordQuorumCommit(id_, commit, *term, conf_);
}

void NodeHost::CheckLeaderCompleteness(const raft::Ready& rd) {
  // The new leader's log: what storage holds plus this Ready's entries (GetReady hands out
  // every entry not yet persisted, and no earlier Ready is in flight here).
  LogView view;
  view.snapshot_index = storage_->FirstIndex() - 1;
  if (rd.snapshot && rd.snapshot->metadata.index > view.snapshot_index) {
    view.snapshot_index = rd.snapshot->metadata.index;
  }
  const std::vector<Entry>& ents = rd.entries;
  const raft::MemoryStorage* storage = storage_.get();
  const bool has_snap = rd.snapshot.has_value();
  view.term_at = [&ents, storage, has_snap](LogIndex i) -> std::optional<Term> {
    if (!ents.empty() && i >= ents.front().index) {
      if (i > ents.back().index) return std::nullopt;
      return ents[i.value - ents.front().index.value].term;
    }
    if (has_snap) return std::nullopt;  // the snapshot replaced the stored log
    Result<Term> t = storage->TermOf(i);
    if (!t.ok()) return std::nullopt;
    return t.value();
  };
  world_.checker->OnBecameLeader(id_, raw_->term(), view);
}

}  // namespace synod::sim
