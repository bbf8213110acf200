// NodeHost: bootstrap, start and recovery from the disk, and the durability check of what a
// restarted node promised before it crashed.
#include "base/assert.h"
#include "sim/host.h"
#include "sim/records.h"

namespace synod::sim {

using raft::LogIndex;
using raft::Term;

void NodeHost::Bootstrap(const raft::ConfState& conf) {
  SYNOD_ASSERT(disk_.written_bytes() == 0, "bootstrap on a used disk");
  // The first configuration travels as a snapshot at index 1, term 1, so every founding
  // member starts from the same point and later members catch up by InstallSnapshot.
  raft::Snapshot snap;
  snap.metadata.index = LogIndex(1);
  snap.metadata.term = Term(1);
  snap.metadata.conf_state = conf;
  snap.data = raft::Payload(KvStateMachine().Image());
  disk_.Append(RecordType::kSnapshot, EncodeSnapshot(snap));
  disk_.Append(RecordType::kHardState, EncodeHardState({Term(1), raft::kNoNode, LogIndex(1)}));
  disk_.SyncedTo(disk_.written_bytes());
}

Status NodeHost::Start() {
  SYNOD_ASSERT(state_ == ProcessState::kDown, "start of a process that is not down");
  ++incarnation_;
  const Status recovered = Recover();
  if (!recovered.ok()) {
    ResetVolatile();
    state_ = ProcessState::kLost;
    world_.trace->Note(world_.queue->now(), TraceKind::kRefuse, static_cast<uint32_t>(id_.value),
                       recovered.ToString());
    return recovered;
  }
  raft::Config config = options_.raft;
  config.id = id_;
  config.storage = storage_.get();
  config.applied = applied_;
  config.random_seed = rng_.Next();
  Result<std::unique_ptr<raft::RawNode>> created = raft::RawNode::Create(config);
  if (!created.ok()) {
    std::fprintf(stderr, "RawNode::Create failed: %s\n", created.status().ToString().c_str());
    SYNOD_UNREACHABLE("the simulator built an invalid raft config");
  }
  raw_ = std::move(created.value());
  state_ = ProcessState::kRunning;
  ticks_.Restart(clock_.Now(world_.queue->now()));
  last_role_ = raw_->role();
  last_term_ = raw_->term();
  const raft::HardState& hs = storage_->hard_state();
  TraceEvent ev;
  ev.time_us = world_.queue->now();
  ev.kind = TraceKind::kRestart;
  ev.node = static_cast<uint32_t>(id_.value);
  ev.a = storage_->LastIndex().value;
  ev.b = hs.term.value;
  ev.c = hs.commit.value;
  world_.trace->Add(std::move(ev));
  CheckPromises();
  ScheduleTick();
  Drive();
  AfterEvent();
  return Status::Ok();
}

Status NodeHost::Recover() {
  Result<ReplayResult> replay = disk_.Replay();
  if (!replay.ok()) return replay.status();
  if (replay.value().truncated_bytes > 0) {
    world_.trace->Note(
        world_.queue->now(), TraceKind::kNote, static_cast<uint32_t>(id_.value),
        "cut a torn tail of " + std::to_string(replay.value().truncated_bytes) + " bytes");
  }
  storage_ = std::make_unique<raft::MemoryStorage>();
  for (const DiskRecord& rec : replay.value().records) {
    switch (rec.type) {
      case RecordType::kSnapshot: {
        std::optional<raft::Snapshot> snap = DecodeSnapshot(rec.payload);
        if (!snap) return Status(ErrorCode::kCorruption, "undecodable snapshot record");
        (void)storage_->ApplySnapshot(*snap);
        break;
      }
      case RecordType::kEntries: {
        std::optional<std::vector<raft::Entry>> ents = DecodeEntries(rec.payload);
        if (!ents) return Status(ErrorCode::kCorruption, "undecodable entries record");
        if (ents->empty()) break;
        if (ents->front().index > storage_->LastIndex() + 1) {
          // Raft handed out entries that do not connect to the log: report, do not guess.
          world_.checker->Fail("n" + std::to_string(id_.value) + " persisted entries from " +
                               std::to_string(ents->front().index.value) +
                               " after a log ending at " +
                               std::to_string(storage_->LastIndex().value));
          return Status(ErrorCode::kCorruption, "gap in the persisted log");
        }
        storage_->Append(*ents);
        break;
      }
      case RecordType::kHardState: {
        std::optional<raft::HardState> hs = DecodeHardState(rec.payload);
        if (!hs) return Status(ErrorCode::kCorruption, "undecodable hard state record");
        storage_->SetHardState(*hs);
        break;
      }
    }
  }
  const raft::Snapshot snap = storage_->GetSnapshot();
  kv_ = KvStateMachine();
  if (!snap.IsEmpty() && !kv_.Restore(snap.data.view())) {
    return Status(ErrorCode::kCorruption, "undecodable state machine image");
  }
  applied_ = snap.metadata.index;
  conf_ = snap.metadata.conf_state;
  return Status::Ok();
}

void NodeHost::CheckPromises() {
  const std::string me = "n" + std::to_string(id_.value);
  const raft::HardState& hs = storage_->hard_state();
  if (promises_.vote_term.value != 0 &&
      (hs.term < promises_.vote_term ||
       (hs.term == promises_.vote_term && hs.vote != promises_.vote_for))) {
    world_.checker->Fail("durability: " + me + " granted its vote to n" +
                         std::to_string(promises_.vote_for.value) + " in term " +
                         std::to_string(promises_.vote_term.value) + " but restarted with term " +
                         std::to_string(hs.term.value) + " vote n" + std::to_string(hs.vote.value) +
                         " (Raft Figure 2: persist before answering)");
  }
  if (promises_.log_index.value == 0) return;
  if (promises_.log_index < storage_->FirstIndex()) return;  // covered by the snapshot
  Result<Term> t = storage_->TermOf(promises_.log_index);
  if (!t.ok() || t.value() != promises_.log_term) {
    world_.checker->Fail("durability: " + me + " acknowledged its log through index " +
                         std::to_string(promises_.log_index.value) + " (term " +
                         std::to_string(promises_.log_term.value) + ") but restarted with " +
                         (t.ok()
                              ? "term " + std::to_string(t.value().value) + " there"
                              : "a log ending at " + std::to_string(storage_->LastIndex().value)) +
                         " (Raft Figure 2: persist before answering)");
  }
}

}  // namespace synod::sim
