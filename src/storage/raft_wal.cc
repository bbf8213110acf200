#include "storage/raft_wal.h"

#include <algorithm>
#include <limits>

#include "storage/raft_codec.h"
#include "storage/raft_replay.h"

namespace synod::storage {
namespace {

constexpr uint64_t kNoLsn = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kEntriesRecordOverheadBytes = 3 * 10;  // group, first index, count

uint8_t TypeByte(RaftRecordType t) { return static_cast<uint8_t>(t); }

Status WithLsn(const Status& s, uint64_t lsn) {
  return Status(s.code(), s.message() + " (record " + std::to_string(lsn) + ")");
}

// Feeds one recovered record to its group's replay and to the release bookkeeping.
template <typename Track>
Status Replay(const WalRecordView& r, std::map<raft::GroupId, GroupReplay>* replays,
              std::map<raft::GroupId, Track>* tracks) {
  switch (static_cast<RaftRecordType>(r.type)) {
    case RaftRecordType::kHardState: {
      Result<HardStateRecord> d = DecodeHardState(r.payload);
      if (!d.ok()) return WithLsn(d.status(), r.lsn);
      (*replays)[d.value().group].OnHardState(d.value().hard_state);
      (*tracks)[d.value().group].OnHardState(d.value().hard_state, r.lsn);
      return Status::Ok();
    }
    case RaftRecordType::kEntries: {
      Result<EntriesRecord> d = DecodeEntries(r.payload);
      if (!d.ok()) return WithLsn(d.status(), r.lsn);
      const raft::GroupId group = d.value().group;
      const raft::LogIndex last = d.value().entries.back().index;
      Status s = (*replays)[group].OnEntries(std::move(d.value().entries));
      if (!s.ok()) return WithLsn(s, r.lsn);
      (*tracks)[group].OnEntries(last, r.lsn);
      return Status::Ok();
    }
    case RaftRecordType::kSnapshot: {
      Result<SnapshotRecord> d = DecodeSnapshot(r.payload);
      if (!d.ok()) return WithLsn(d.status(), r.lsn);
      const SnapshotRecord& rec = d.value();
      Status s = (*replays)[rec.group].OnSnapshot(rec.mode, rec.snapshot);
      if (!s.ok()) return WithLsn(s, r.lsn);
      (*tracks)[rec.group].OnSnapshot(rec.mode, rec.snapshot.metadata.index, r.lsn);
      return Status::Ok();
    }
  }
  return Status(ErrorCode::kCorruption,
                "wal: unknown record type " + std::to_string(r.type) + " at record " +
                    std::to_string(r.lsn));
}

}  // namespace

void RaftWal::GroupTrack::OnHardState(const raft::HardState& hs, uint64_t lsn) {
  hard_state = hs;
  hard_state_lsn = lsn;
}

void RaftWal::GroupTrack::OnEntries(raft::LogIndex last, uint64_t lsn) {
  if (entry_records.empty() || last > entry_records.back().first) {
    entry_records.emplace_back(last, lsn);
  }
}

void RaftWal::GroupTrack::OnSnapshot(SnapshotMode mode, raft::LogIndex index, uint64_t lsn) {
  if (index <= snapshot_index) return;  // replay ignores it as well
  snapshot_index = index;
  snapshot_lsn = lsn;
  if (mode == SnapshotMode::kInstalled) {
    // Replay clears the whole log at this record: no earlier entries record matters.
    entry_records.clear();
    released = index;
  }
}

uint64_t RaftWal::GroupTrack::NeededLsn() {
  while (!entry_records.empty() && entry_records.front().first <= released) {
    entry_records.pop_front();
  }
  uint64_t needed = snapshot_lsn != 0 ? snapshot_lsn : kNoLsn;
  if (!entry_records.empty()) needed = std::min(needed, entry_records.front().second);
  return needed;
}

RaftWal::~RaftWal() = default;

Result<RaftWal::Opened> RaftWal::Open(const std::string& dir, const RaftWalOptions& options) {
  std::unique_ptr<RaftWal> wal(new RaftWal(options));
  std::map<raft::GroupId, GroupReplay> replays;
  auto visit = [&](const WalRecordView& r) { return Replay(r, &replays, &wal->tracks_); };
  Opened out;
  Result<std::unique_ptr<WalWriter>> writer =
      WalWriter::Open(dir, options.writer, visit, &out.info);
  if (!writer.ok()) return writer.status();
  wal->writer_ = std::move(writer.value());
  for (const auto& [group, replay] : replays) {
    Result<std::unique_ptr<raft::MemoryStorage>> storage = replay.Build();
    if (!storage.ok()) {
      const Status& s = storage.status();
      return Status(s.code(), s.message() + " (group " + std::to_string(group.value) + ")");
    }
    out.groups[group] = std::move(storage.value());
  }
  out.wal = std::move(wal);
  return out;
}

Status RaftWal::EncodeEntryRecords(raft::GroupId group, std::span<const raft::Entry> entries,
                                   std::vector<WalWriter::Record>* out,
                                   std::vector<raft::LogIndex>* lasts) const {
  const uint64_t record_max = options_.writer.wal.record_bytes_max;
  size_t begin = 0;
  while (begin < entries.size()) {
    // Take as many entries as fit in one record; a Ready rarely needs more than one.
    uint64_t bytes = kEntriesRecordOverheadBytes;
    size_t end = begin;
    while (end < entries.size()) {
      const uint64_t entry_bytes = entries[end].data.size() + kEntryOverheadBytesMax;
      if (bytes + entry_bytes > record_max) break;
      bytes += entry_bytes;
      ++end;
    }
    if (end == begin) {
      return Status(ErrorCode::kLimitExceeded,
                    "wal: entry " + std::to_string(entries[begin].index.value) +
                        " does not fit in a record of record_bytes_max");
    }
    out->push_back({TypeByte(RaftRecordType::kEntries),
                    EncodeEntries(group, entries.subspan(begin, end - begin))});
    lasts->push_back(entries[end - 1].index);
    begin = end;
  }
  return Status::Ok();
}

Result<uint64_t> RaftWal::Save(raft::GroupId group,
                               const std::optional<raft::HardState>& hard_state,
                               std::span<const raft::Entry> entries,
                               const std::optional<raft::Snapshot>& snapshot, bool sync,
                               WalWriter::Callback done, WalWriter::Writer writer) {
  std::vector<WalWriter::Record> records;
  const bool has_snapshot = snapshot.has_value() && !snapshot->IsEmpty();
  if (has_snapshot) {
    records.push_back({TypeByte(RaftRecordType::kSnapshot),
                       EncodeSnapshot(group, SnapshotMode::kInstalled, *snapshot)});
  }
  const size_t entries_begin = records.size();
  std::vector<raft::LogIndex> entry_lasts;  // last index of each entries record
  if (Status s = EncodeEntryRecords(group, entries, &records, &entry_lasts); !s.ok()) return s;
  if (hard_state) {
    records.push_back({TypeByte(RaftRecordType::kHardState), EncodeHardState(group, *hard_state)});
  }
  if (records.empty()) {
    if (done) done(Status::Ok());
    return uint64_t{0};
  }
  const size_t count = records.size();
  Result<uint64_t> last = writer_->AppendBatch(std::move(records), sync, std::move(done), writer);
  if (!last.ok()) return last.status();

  // LSNs are consecutive in the order the records were built.
  const uint64_t first_lsn = last.value() + 1 - count;
  GroupTrack& track = tracks_[group];
  if (has_snapshot) {
    track.OnSnapshot(SnapshotMode::kInstalled, snapshot->metadata.index, first_lsn);
  }
  for (size_t i = 0; i < entry_lasts.size(); ++i) {
    track.OnEntries(entry_lasts[i], first_lsn + entries_begin + i);
  }
  if (hard_state) track.OnHardState(*hard_state, last.value());
  return last;
}

Status RaftWal::Persist(raft::GroupId group, const raft::Ready& ready) {
  Result<uint64_t> lsn = Save(group, ready.hard_state, ready.entries, ready.snapshot,
                              ready.must_sync, {}, WalWriter::Writer::kCallerWaits);
  if (!lsn.ok()) return lsn.status();
  return Wait(lsn.value());
}

Status RaftWal::Wait(uint64_t lsn) {
  if (lsn == 0) return Status::Ok();
  return writer_->Wait(lsn);
}

Status RaftWal::SaveSnapshot(raft::GroupId group, const raft::Snapshot& snapshot) {
  SYNOD_ASSERT(!snapshot.IsEmpty(), "SaveSnapshot of an empty snapshot");
  Result<uint64_t> lsn =
      writer_->Append(TypeByte(RaftRecordType::kSnapshot),
                      EncodeSnapshot(group, SnapshotMode::kCompacted, snapshot), /*sync=*/true);
  if (!lsn.ok()) return lsn.status();
  tracks_[group].OnSnapshot(SnapshotMode::kCompacted, snapshot.metadata.index, lsn.value());
  return writer_->Wait(lsn.value());
}

Status RaftWal::RefreshHardStates(uint64_t needed_lsn) {
  // A group whose hard state has not changed for a while would pin the segment holding its
  // last hard state record; writing the same state again lets that segment go.
  std::vector<WalWriter::Record> records;
  std::vector<GroupTrack*> refreshed;
  for (auto& [group, track] : tracks_) {
    if (track.hard_state && track.hard_state_lsn < needed_lsn) {
      records.push_back({TypeByte(RaftRecordType::kHardState),
                         EncodeHardState(group, *track.hard_state)});
      refreshed.push_back(&track);
    }
  }
  if (records.empty()) return Status::Ok();
  Result<uint64_t> last = writer_->AppendBatch(std::move(records), /*sync=*/true);
  if (!last.ok()) return last.status();
  uint64_t lsn = last.value() + 1 - refreshed.size();
  for (GroupTrack* t : refreshed) t->hard_state_lsn = lsn++;
  return writer_->Wait(last.value());
}

Status RaftWal::ReleaseTo(raft::GroupId group, raft::LogIndex index) {
  auto it = tracks_.find(group);
  if (it == tracks_.end() || index > it->second.snapshot_index) {
    return Status(ErrorCode::kInvalidArgument, "wal: ReleaseTo past the group's saved snapshot");
  }
  it->second.released = std::max(it->second.released, index);
  uint64_t needed = kNoLsn;
  for (auto& [g, track] : tracks_) needed = std::min(needed, track.NeededLsn());
  if (needed == kNoLsn) needed = writer_->next_lsn();
  if (Status s = RefreshHardStates(needed); !s.ok()) return s;
  return writer_->ReleaseBefore(needed);
}

Status RaftWal::Close() { return writer_->Close(); }

}  // namespace synod::storage
