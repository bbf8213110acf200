#include "node/node.h"

#include <algorithm>
#include <deque>
#include <future>
#include <map>
#include <variant>

#include "base/assert.h"
#include "node/command_header.h"
#include "node/mailbox.h"
#include "raft/confchange.h"

namespace synod::node {

using Clock = std::chrono::steady_clock;
using raft::LogIndex;
using raft::NodeId;

namespace {

struct ProposeItem {
  std::string command;
  Node::ProposeCallback done;
};
struct ReadItem {
  Node::ReadCallback done;
};
struct MessagesItem {
  std::vector<raft::Message> messages;
};
struct ConfChangeItem {
  raft::ConfChange cc;
  Node::ConfChangeCallback done;
};
struct FeedbackItem {
  enum Kind : uint8_t { kUnreachable, kSnapshotOk, kSnapshotFailed, kTransfer } kind;
  NodeId peer;
};
using Item = std::variant<ProposeItem, ReadItem, MessagesItem, FeedbackItem, ConfChangeItem>;

// Where this run's proposal sequences start. A proposal is recognized when applied by its
// (node id, sequence), and a restarted node applies entries that its previous run proposed
// but had not applied yet: had both runs counted from 1, such an old entry would answer a new
// proposal with the old command's result. Starting from the wall clock in ms, shifted 20 bits
// (as etcd's request ids), keeps runs apart unless the clock steps back between two runs or a
// run proposes more than 2^20 commands per millisecond it lived.
uint64_t FirstSequence() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return static_cast<uint64_t>(ms) << 20;  // ms < 2^44 until the year 2527
}

}  // namespace

class Node::Loop {
 public:
  Loop(const NodeOptions& options, StateMachine* sm) : opts_(options), sm_(sm),
      mailbox_(options.mailbox_items_max) {}

  Status Init();
  void Start() { thread_ = std::thread([this] { Run(); }); }
  void Stop();
  bool Post(Item item) { return mailbox_.TryPush(std::move(item)); }
  NodeInfo Info() const {
    std::lock_guard<std::mutex> lock(info_mu_);
    return info_;
  }

 private:
  struct PendingProposal {
    ProposeCallback done;
    Clock::time_point deadline;
  };
  struct PendingConfChange {
    ConfChangeCallback done;
    Clock::time_point deadline;
  };
  struct PendingRead {
    ReadCallback done;
    Clock::time_point deadline;
    LogIndex index;        // known once the read index arrives
    bool indexed = false;
  };

  void Run();
  void Handle(Item& item, std::vector<raft::Payload>* batch, std::vector<uint64_t>* seqs);
  void ProposeBatch(std::vector<raft::Payload>& batch, std::vector<uint64_t>& seqs);
  void HandleReady();
  void SendBeforePersist(std::vector<raft::Message>& messages);
  void ApplyEntries(const std::vector<raft::Entry>& entries);
  void ApplyConfChangeEntry(const raft::Entry& e);
  void ProposeConfChange(ConfChangeItem& item);
  void CheckRemoved();
  void ServeReads();
  void MaybeSnapshot();
  void FinishSnapshot();
  void DeferSnapshot(const std::string& why);  // logs why, and waits before the next try
  void FailReadsOnLeaderChange();
  void ExpireRequests(Clock::time_point now);
  void FailAll(const Status& s);
  void PublishInfo();
  void CountInfo(uint64_t NodeInfo::*counter);
  void Log(const std::string& event) {
    if (opts_.log) opts_.log(event);
  }

  NodeOptions opts_;
  StateMachine* sm_;
  Mailbox<Item> mailbox_;
  std::unique_ptr<storage::RaftWal> wal_;
  std::unique_ptr<raft::MemoryStorage> storage_;
  std::unique_ptr<raft::RawNode> raw_;
  raft::ConfState conf_;
  LogIndex applied_;
  // What the state machine held at start: entries up to it are replayed to Raft (membership
  // changes) without being applied again.
  LogIndex sm_applied_at_open_;
  bool removed_ = false;
  // A member was added while the only snapshot is the empty bootstrap one: take a real one,
  // so the new member (which starts with an empty log) is sent the member list and the data.
  bool snapshot_wanted_ = false;
  // After a failed snapshot, none is tried (nor its failure logged again) before this index.
  LogIndex snapshot_retry_at_;
  // The snapshot whose image is being built off the loop (StateMachine::BeginSnapshot): its
  // index and the configuration at that index, which the Raft snapshot records.
  std::future<Result<std::string>> snapshot_job_;
  LogIndex snapshot_index_;
  raft::ConfState snapshot_conf_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  uint64_t next_seq_ = FirstSequence();
  std::map<uint64_t, PendingProposal> proposals_;  // by sequence: oldest first
  uint64_t next_read_ = 0;
  raft::NodeId read_leader_ = raft::kNoNode;  // the leader when reads were last checked
  std::map<uint64_t, PendingRead> reads_;  // by context: oldest first
  // By sequence (one counter with proposals): oldest first.
  std::map<uint64_t, PendingConfChange> conf_changes_;

  mutable std::mutex info_mu_;
  NodeInfo info_;
  NodeId last_leader_ = raft::kNoNode;
};

Status Node::Loop::Init() {
  auto opened = storage::RaftWal::Open(opts_.data_dir + "/wal", opts_.wal);
  if (!opened.ok()) return opened.status();
  wal_ = std::move(opened.value().wal);
  if (!opened.value().info.warning.empty()) Log(opened.value().info.warning);
  auto& groups = opened.value().groups;
  auto it = groups.find(opts_.group);
  if (it != groups.end()) {
    storage_ = std::move(it->second);
  } else {
    storage_ = std::make_unique<raft::MemoryStorage>();
  }
  if (it == groups.end() && opts_.join_existing) {
    // Nothing to bootstrap: the leader's snapshot brings the configuration and the data.
    Log("joining an existing cluster: waiting for the leader's snapshot");
  } else if (it == groups.end()) {
    // A new cluster: every member starts from the same bootstrap snapshot holding the
    // initial voters, so no member needs to be told the configuration by another.
    if (opts_.initial_voters.empty()) {
      return Status(ErrorCode::kInvalidArgument, "new group without initial voters");
    }
    raft::Snapshot boot;
    boot.metadata.index = LogIndex(1);
    boot.metadata.term = raft::Term(1);
    boot.metadata.conf_state.voters = opts_.initial_voters;
    SYNOD_ASSERT(storage_->ApplySnapshot(boot), "bootstrap snapshot");
    Status s = wal_->SaveSnapshot(opts_.group, boot);
    if (!s.ok()) return s;
  }
  const raft::Snapshot snap = storage_->GetSnapshot();
  conf_ = snap.metadata.conf_state;
  applied_ = sm_->AppliedIndex();
  sm_applied_at_open_ = applied_;
  if (applied_ < snap.metadata.index) {
    if (!snap.data.empty()) {
      Status s = sm_->Restore(snap.data.view(), snap.metadata.index);
      if (!s.ok()) return s;
    }
    applied_ = snap.metadata.index;
  }
  if (applied_ > storage_->LastIndex()) {
    return Status(ErrorCode::kCorruption,
                  "state machine applied index " + std::to_string(applied_.value) +
                      " is past the last logged index " +
                      std::to_string(storage_->LastIndex().value) + "; refusing to start");
  }
  // Whatever was applied was committed, even if the commit index record was not synced.
  raft::HardState hs = storage_->hard_state();
  if (hs.commit < applied_) {
    hs.commit = applied_;
    storage_->SetHardState(hs);
  }
  raft::Config c;
  c.id = opts_.id;
  c.group = opts_.group;
  c.storage = storage_.get();
  // Raft's configuration comes from the snapshot; the membership changes after it are handed
  // out again (and applied to Raft) even when the state machine already holds them.
  c.applied = snap.metadata.index;
  applied_ = snap.metadata.index;
  sm_applied_at_open_ = std::max(sm_applied_at_open_, snap.metadata.index);
  c.election_timeout_ticks = opts_.election_ticks;
  c.heartbeat_interval_ticks = 1;
  c.read_mode = opts_.read_mode;
  c.forward_proposals = true;
  c.random_seed = opts_.random_seed != 0
                      ? opts_.random_seed
                      : static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  auto raw = raft::RawNode::Create(c);
  if (!raw.ok()) return raw.status();
  raw_ = std::move(raw.value());
  PublishInfo();
  return Status::Ok();
}

void Node::Loop::Run() {
  Clock::time_point next_tick = Clock::now() + opts_.tick;
  while (!stopping_.load()) {
    std::deque<Item> items = mailbox_.DrainUntil(next_tick);
    std::vector<raft::Payload> batch;
    std::vector<uint64_t> seqs;
    // A leader first reads what its peers sent while it was busy (a slow fsync, a large apply,
    // a pause): acks that arrived in time must not look missing when the ticks of the stall
    // are caught up, or check-quorum deposes a leader that a quorum still follows. Its lease
    // gains nothing from this, as it dates from when heartbeats were sent (acked_tick). A
    // follower must not do the same: crediting a leader's message to the start of a stall
    // would start its promise not to vote before the message was even sent.
    if (raw_->role() == raft::Role::kLeader) {
      for (Item& item : items) {
        if (std::holds_alternative<MessagesItem>(item)) Handle(item, &batch, &seqs);
      }
      std::erase_if(items, [](const Item& i) { return std::holds_alternative<MessagesItem>(i); });
    }
    // Ticks before requests: after a pause (or a slow fsync) the node must see how much time
    // passed before it serves anything, or it could trust a lease that already expired.
    const Clock::time_point now = Clock::now();
    while (now >= next_tick) {
      raw_->Tick();
      next_tick += opts_.tick;
    }
    for (Item& item : items) Handle(item, &batch, &seqs);
    if (!batch.empty()) ProposeBatch(batch, seqs);
    while (raw_->HasReady()) HandleReady();
    FinishSnapshot();
    FailReadsOnLeaderChange();
    CheckRemoved();
    ExpireRequests(Clock::now());
    PublishInfo();
  }
  FailAll(Status(ErrorCode::kUnavailable, "node stopping"));
  // The job reads the state machine's files: it ends before the state machine may go.
  if (snapshot_job_.valid()) snapshot_job_.wait();
}

void Node::Loop::Handle(Item& item, std::vector<raft::Payload>* batch,
                        std::vector<uint64_t>* seqs) {
  if (auto* p = std::get_if<ProposeItem>(&item)) {
    if (proposals_.size() >= opts_.pending_requests_max) {
      p->done(Status(ErrorCode::kUnavailable, "too many pending proposals"));
      return;
    }
    const uint64_t seq = ++next_seq_;
    proposals_.emplace(seq, PendingProposal{std::move(p->done), Clock::now() + opts_.request_timeout});
    batch->emplace_back(EncodeCommand({opts_.id.value, seq}, p->command));
    seqs->push_back(seq);
  } else if (auto* r = std::get_if<ReadItem>(&item)) {
    if (raw_->leader() == raft::kNoNode) {
      r->done(Status(ErrorCode::kNotLeader, "no leader"));
      return;
    }
    if (reads_.size() >= opts_.pending_requests_max) {
      r->done(Status(ErrorCode::kUnavailable, "too many pending reads"));
      return;
    }
    const uint64_t ctx = ++next_read_;
    reads_.emplace(ctx, PendingRead{std::move(r->done), Clock::now() + opts_.request_timeout, {}});
    raw_->ReadIndex(ctx);
  } else if (auto* m = std::get_if<MessagesItem>(&item)) {
    for (const raft::Message& msg : m->messages) {
      Status s = raw_->Step(msg);
      if (!s.ok()) Log("dropped message: " + s.ToString());
    }
  } else if (auto* c = std::get_if<ConfChangeItem>(&item)) {
    ProposeConfChange(*c);
  } else if (auto* f = std::get_if<FeedbackItem>(&item)) {
    switch (f->kind) {
      case FeedbackItem::kUnreachable: raw_->ReportUnreachable(f->peer); break;
      case FeedbackItem::kSnapshotOk: raw_->ReportSnapshot(f->peer, true); break;
      case FeedbackItem::kSnapshotFailed: raw_->ReportSnapshot(f->peer, false); break;
      case FeedbackItem::kTransfer: raw_->TransferLeadership(f->peer); break;
    }
  }
}

void Node::Loop::ProposeBatch(std::vector<raft::Payload>& batch, std::vector<uint64_t>& seqs) {
  raft::ProposeResult r = raw_->Propose(batch);
  if (r.ok()) return;  // answered when applied
  const Status s = r.code == ErrorCode::kNotLeader
                       ? Status(ErrorCode::kNotLeader, "no leader")
                       : Status(r.code, "proposal dropped (leader changing or overloaded)");
  for (uint64_t seq : seqs) {
    auto it = proposals_.find(seq);
    if (it == proposals_.end()) continue;
    it->second.done(s);
    proposals_.erase(it);
  }
}

void Node::Loop::ProposeConfChange(ConfChangeItem& item) {
  if (conf_changes_.size() >= opts_.pending_requests_max) {
    item.done(Status(ErrorCode::kUnavailable, "too many pending membership changes"));
    return;
  }
  const uint64_t seq = ++next_seq_;
  item.cc.context = EncodeCommand({opts_.id.value, seq}, item.cc.context);
  const raft::ProposeResult r = raw_->ProposeConfChange(item.cc);
  switch (r.code) {
    case ErrorCode::kOk:
      conf_changes_.emplace(seq, PendingConfChange{std::move(item.done),
                                                   Clock::now() + opts_.request_timeout});
      return;
    case ErrorCode::kNotLeader: item.done(Status(ErrorCode::kNotLeader, "not the leader")); return;
    case ErrorCode::kInvalidArgument:
      item.done(Status(ErrorCode::kInvalidArgument, "not a valid membership change now"));
      return;
    default:
      item.done(Status(ErrorCode::kUnavailable, "another membership change is in progress"));
      return;
  }
}

void Node::Loop::HandleReady() {
  raft::Ready rd = raw_->GetReady();
  // 1. Persist. A WAL that cannot write is fatal: continuing could acknowledge what is not
  // durable.
  const bool durable_write = rd.must_sync || rd.snapshot || !rd.entries.empty();
  // A durable write is waited for just below: this thread writes it then (when the WAL's
  // sync thread is idle) instead of waking that thread and being woken by it.
  Result<uint64_t> lsn = wal_->Save(
      opts_.group, rd.hard_state, rd.entries, rd.snapshot, rd.must_sync, {},
      durable_write ? storage::WalWriter::Writer::kCallerWaits
                    : storage::WalWriter::Writer::kSyncThread);
  SYNOD_ASSERT(lsn.ok(), lsn.status().ToString().c_str());
  if (durable_write) {
    // Thesis §10.2.1: the leader's appends go out while its own fdatasync runs, so followers
    // write in parallel and a commit costs one disk write of latency, not two.
    SendBeforePersist(rd.messages);
    Status s = wal_->Wait(lsn.value());
    SYNOD_ASSERT(s.ok(), s.ToString().c_str());
  }
  // Otherwise only the commit index changed: its record is written in order with the next
  // ones and need not be waited for (a lost commit index is learned again from the leader),
  // and every entry this Ready hands out to apply was made durable by an earlier Ready.
  if (rd.snapshot) SYNOD_ASSERT(storage_->ApplySnapshot(*rd.snapshot), "stale snapshot in Ready");
  storage_->Append(rd.entries);
  if (rd.hard_state) storage_->SetHardState(*rd.hard_state);
  // 2. Send.
  if (!rd.messages.empty() && opts_.send) opts_.send(std::move(rd.messages));
  // 3. Apply.
  if (rd.snapshot) {
    // The bootstrap snapshot (a joining node may be sent it) holds no image: nothing to restore.
    if (!rd.snapshot->data.empty()) {
      Status rs = sm_->Restore(rd.snapshot->data.view(), rd.snapshot->metadata.index);
      SYNOD_ASSERT(rs.ok(), rs.ToString().c_str());
    }
    conf_ = rd.snapshot->metadata.conf_state;
    applied_ = rd.snapshot->metadata.index;
    Log("installed snapshot at index " + std::to_string(applied_.value));
  }
  ApplyEntries(rd.committed_entries);
  for (const raft::ReadState& rs : rd.read_states) {
    auto it = reads_.find(rs.context);
    if (it == reads_.end()) continue;  // timed out meanwhile
    it->second.index = rs.index;
    it->second.indexed = true;
  }
  raw_->Advance();
  CountInfo(&NodeInfo::readies);
  ServeReads();
  MaybeSnapshot();
}

void Node::Loop::SendBeforePersist(std::vector<raft::Message>& messages) {
  if (!opts_.send) return;
  std::vector<raft::Message> early, later;
  for (raft::Message& m : messages) {
    (raft::MaySendBeforePersist(m) ? early : later).push_back(std::move(m));
  }
  messages = std::move(later);
  if (!early.empty()) opts_.send(std::move(early));
}

void Node::Loop::ApplyEntries(const std::vector<raft::Entry>& entries) {
  for (const raft::Entry& e : entries) {
    applied_ = e.index;
    if (e.type == raft::EntryType::kConfChange) {
      ApplyConfChangeEntry(e);
      continue;
    }
    if (e.index <= sm_applied_at_open_) continue;  // replayed for Raft's configuration only
    std::string_view command;
    auto header = e.data.empty() ? std::nullopt : DecodeCommand(e.data.view(), &command);
    if (!header) {
      sm_->ApplyEmpty(e.index);  // the leader's no-op
      continue;
    }
    std::any result = sm_->Apply(e.index, command);
    if (header->node != opts_.id.value) continue;
    auto it = proposals_.find(header->seq);
    if (it == proposals_.end()) continue;  // timed out; the command still took effect
    CountInfo(&NodeInfo::proposals_committed);
    it->second.done(std::move(result));
    proposals_.erase(it);
  }
}

void Node::Loop::ApplyConfChangeEntry(const raft::Entry& e) {
  auto cc = raft::DecodeConfChange(e.data.view());
  SYNOD_ASSERT(cc.has_value(), "undecodable conf change in the committed log");
  const raft::ConfState before = conf_;
  conf_ = raw_->ApplyConfChange(*cc);
  std::string_view context;
  uint64_t my_seq = 0;  // nonzero: this node proposed the change
  if (!cc->context.empty()) {
    if (auto header = DecodeCommand(cc->context, &context); header.has_value()) {
      if (header->node == opts_.id.value) my_seq = header->seq;
    }
  }
  sm_->ApplyConfChange(e.index, context, conf_);
  if (e.index > sm_applied_at_open_) sm_->ApplyEmpty(e.index);
  auto added = [&](const std::vector<NodeId>& now, const std::vector<NodeId>& was) {
    return std::any_of(now.begin(), now.end(), [&](NodeId id) {
      return std::find(was.begin(), was.end(), id) == was.end();
    });
  };
  if (storage_->GetSnapshot().data.empty() &&
      (added(conf_.voters, before.voters) || added(conf_.learners, before.learners))) {
    snapshot_wanted_ = true;
  }
  Log("membership change at index " + std::to_string(e.index.value) + ": " +
      std::to_string(conf_.voters.size()) + " voters, " + std::to_string(conf_.learners.size()) +
      " learners");
  if (my_seq == 0) return;
  auto it = conf_changes_.find(my_seq);
  if (it == conf_changes_.end()) return;
  // Raft refuses an invalid change identically on every member, leaving the configuration.
  if (conf_ == before && !cc->changes.empty()) {
    it->second.done(Status(ErrorCode::kInvalidArgument, "membership change refused"));
  } else {
    it->second.done(conf_);
  }
  conf_changes_.erase(it);
}

void Node::Loop::CheckRemoved() {
  if (removed_ || (conf_.voters.empty() && conf_.learners.empty())) return;
  auto has = [&](const std::vector<NodeId>& ids) {
    return std::find(ids.begin(), ids.end(), opts_.id) != ids.end();
  };
  if (has(conf_.voters) || has(conf_.learners) || has(conf_.voters_outgoing)) return;
  removed_ = true;
  Log("this member was removed from the cluster");
  if (opts_.on_removed) opts_.on_removed();
}

void Node::Loop::ServeReads() {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.indexed && it->second.index <= applied_) {
      it->second.done(Status::Ok());
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
}

void Node::Loop::MaybeSnapshot() {
  if (snapshot_job_.valid()) return;  // one at a time
  const LogIndex first = storage_->FirstIndex();
  // While a restart replays entries the state machine already holds, its image is ahead of
  // applied_ and must not be labelled with it.
  if (applied_ != sm_->AppliedIndex()) return;
  if (!snapshot_wanted_ && applied_.value < first.value + opts_.snapshot_count) return;
  if (applied_ < snapshot_retry_at_) return;
  snapshot_wanted_ = false;
  auto job = sm_->BeginSnapshot();
  if (!job.ok()) {
    DeferSnapshot("snapshot failed: " + job.status().ToString());
    return;
  }
  // The image of a large store takes seconds to build: on the loop, that would stall
  // heartbeats and applies, and followers would elect another leader.
  snapshot_index_ = applied_;
  snapshot_conf_ = conf_;
  snapshot_job_ = std::async(std::launch::async, std::move(job.value()));
}

void Node::Loop::DeferSnapshot(const std::string& why) {
  // Every Ready would try again (and fail alike): wait a quarter of the interval.
  snapshot_retry_at_ = applied_ + std::max<uint64_t>(1, opts_.snapshot_count / 4);
  Log(why + "; next try at index " + std::to_string(snapshot_retry_at_.value));
}

void Node::Loop::FinishSnapshot() {
  if (!snapshot_job_.valid() ||
      snapshot_job_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return;
  }
  Result<std::string> image = snapshot_job_.get();
  const LogIndex index = snapshot_index_;
  if (!image.ok()) {
    DeferSnapshot("snapshot at index " + std::to_string(index.value) + " failed: " +
                  image.status().ToString());
    return;
  }
  // A snapshot from the leader installed meanwhile is newer: this one is of no use.
  if (index <= storage_->GetSnapshot().metadata.index) {
    Log("snapshot at index " + std::to_string(index.value) + " overtaken by an installed one");
    return;
  }
  const LogIndex first = storage_->FirstIndex();
  Status s = storage_->CreateSnapshot(index, snapshot_conf_, raft::Payload(std::move(image.value())));
  if (!s.ok()) {
    Log("snapshot at index " + std::to_string(index.value) + " not kept: " + s.ToString());
    return;
  }
  s = wal_->SaveSnapshot(opts_.group, storage_->GetSnapshot());
  if (!s.ok()) {
    Log("snapshot not saved: " + s.ToString());
    return;
  }
  // Keep a tail so slightly slow followers catch up from the log, not a snapshot.
  if (index.value > opts_.snapshot_catchup_entries + first.value) {
    const LogIndex compact = index - opts_.snapshot_catchup_entries;
    if (storage_->Compact(compact).ok()) (void)wal_->ReleaseTo(opts_.group, compact);
  }
  Log("snapshot at index " + std::to_string(index.value));
  // Entries applied while the image was built may call for the next one already.
  MaybeSnapshot();
}

void Node::Loop::FailReadsOnLeaderChange() {
  if (raw_->leader() == read_leader_) return;
  read_leader_ = raw_->leader();
  // A read index request lives with the leader that took it (Raft §6.4): a leader that steps
  // down forgets its pending ones, and one forwarded to a former leader gets no answer. Without
  // an index such a read would only wait for its timeout, so it fails now (etcd answers
  // "leader changed" too). Reads that already have their index stay: serving them once it is
  // applied is still linearizable.
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.indexed) {
      ++it;
      continue;
    }
    it->second.done(Status(ErrorCode::kProposalDropped, "leader changed"));
    it = reads_.erase(it);
  }
}

void Node::Loop::ExpireRequests(Clock::time_point now) {
  // Both maps are in arrival order and share one timeout, so expired ones are at the front.
  while (!proposals_.empty() && proposals_.begin()->second.deadline <= now) {
    CountInfo(&NodeInfo::proposals_failed);
    proposals_.begin()->second.done(Status(ErrorCode::kTimeout, "request timed out"));
    proposals_.erase(proposals_.begin());
  }
  while (!reads_.empty() && reads_.begin()->second.deadline <= now) {
    reads_.begin()->second.done(Status(ErrorCode::kTimeout, "request timed out"));
    reads_.erase(reads_.begin());
  }
  while (!conf_changes_.empty() && conf_changes_.begin()->second.deadline <= now) {
    conf_changes_.begin()->second.done(Status(ErrorCode::kTimeout, "request timed out"));
    conf_changes_.erase(conf_changes_.begin());
  }
}

void Node::Loop::FailAll(const Status& s) {
  for (auto& [seq, p] : proposals_) p.done(s);
  proposals_.clear();
  for (auto& [ctx, r] : reads_) r.done(s);
  reads_.clear();
  for (auto& [seq, c] : conf_changes_) c.done(s);
  conf_changes_.clear();
  // Requests still in the mailbox are failed too, so no caller waits forever.
  for (Item& item : mailbox_.DrainUntil(Clock::now())) {
    if (auto* p = std::get_if<ProposeItem>(&item)) p->done(s);
    if (auto* r = std::get_if<ReadItem>(&item)) r->done(s);
    if (auto* c = std::get_if<ConfChangeItem>(&item)) c->done(s);
  }
}

void Node::Loop::CountInfo(uint64_t NodeInfo::*counter) {
  // Under the lock: Info() copies info_ from other threads (the metrics endpoint).
  std::lock_guard<std::mutex> lock(info_mu_);
  ++(info_.*counter);
}

void Node::Loop::PublishInfo() {
  const raft::NodeStatus st = raw_->GetStatus();
  // Counted as etcd counts leader changes: a new known leader, not the loss of one.
  const bool new_leader = st.leader != last_leader_ && st.leader != raft::kNoNode;
  if (new_leader) {
    Log("leader is " + std::to_string(st.leader.value) + " in term " +
        std::to_string(st.term.value));
  }
  last_leader_ = st.leader;
  std::lock_guard<std::mutex> lock(info_mu_);
  if (new_leader) ++info_.leader_changes;
  info_.id = st.id;
  info_.term = st.term;
  info_.leader = st.leader;
  info_.role = st.role;
  info_.commit = st.commit;
  info_.applied = applied_;
  info_.last_index = st.last_index;
  info_.snapshot_index = storage_->FirstIndex() - 1;
  info_.conf_state = conf_;
  info_.progress = st.progress;
}

void Node::Loop::Stop() {
  if (stopping_.exchange(true)) return;
  mailbox_.Close();
  if (thread_.joinable()) thread_.join();
  Status s = wal_->Close();
  if (!s.ok()) Log("wal close: " + s.ToString());
}

// ---- Node -----------------------------------------------------------------------------------

Result<std::unique_ptr<Node>> Node::Open(const NodeOptions& options, StateMachine* sm) {
  if (options.id == raft::kNoNode) return Status(ErrorCode::kInvalidArgument, "node id is 0");
  if (options.data_dir.empty()) return Status(ErrorCode::kInvalidArgument, "no data dir");
  if (options.tick.count() <= 0 || options.election_ticks < 2) {
    return Status(ErrorCode::kInvalidArgument, "tick must be > 0 and election_ticks >= 2");
  }
  auto loop = std::make_unique<Loop>(options, sm);
  Status s = loop->Init();
  if (!s.ok()) return s;
  loop->Start();
  return std::unique_ptr<Node>(new Node(std::move(loop)));
}

Node::Node(std::unique_ptr<Loop> loop) : loop_(std::move(loop)) {}
Node::~Node() { Stop(); }
void Node::Stop() { loop_->Stop(); }
NodeInfo Node::Info() const { return loop_->Info(); }

void Node::Propose(std::string command, ProposeCallback done) {
  ProposeCallback keep = done;
  if (!loop_->Post(ProposeItem{std::move(command), std::move(done)})) {
    keep(Status(ErrorCode::kUnavailable, "node overloaded or stopping"));
  }
}

void Node::ReadBarrier(ReadCallback done) {
  ReadCallback keep = done;
  if (!loop_->Post(ReadItem{std::move(done)})) {
    keep(Status(ErrorCode::kUnavailable, "node overloaded or stopping"));
  }
}

void Node::ProposeConfChange(raft::ConfChange cc, ConfChangeCallback done) {
  ConfChangeCallback keep = done;
  if (!loop_->Post(ConfChangeItem{std::move(cc), std::move(done)})) {
    keep(Status(ErrorCode::kUnavailable, "node overloaded or stopping"));
  }
}

void Node::Deliver(std::vector<raft::Message> messages) {
  (void)loop_->Post(MessagesItem{std::move(messages)});  // a full mailbox drops: Raft retries
}

void Node::ReportUnreachable(NodeId peer) {
  (void)loop_->Post(FeedbackItem{FeedbackItem::kUnreachable, peer});
}

void Node::ReportSnapshot(NodeId peer, bool success) {
  (void)loop_->Post(
      FeedbackItem{success ? FeedbackItem::kSnapshotOk : FeedbackItem::kSnapshotFailed, peer});
}

void Node::TransferLeadership(NodeId target) {
  (void)loop_->Post(FeedbackItem{FeedbackItem::kTransfer, target});
}

}  // namespace synod::node
