// RaftWal: the stable storage of the Raft groups of one node, on one shared WAL.
//
//   auto opened = RaftWal::Open(dir, options);          // replays the WAL
//   MemoryStorage* storage = opened.groups[group];       // hand to RawNode via Config::storage
//   loop: Ready rd = node.GetReady();
//         wal.Persist(group, rd);                        // durable before messages go out
//         storage->ApplySnapshot / Append / SetHardState; send; apply; node.Advance();
//   after a snapshot at applied index i:
//         storage->CreateSnapshot(i, ...); wal.SaveSnapshot(group, snap); wal.ReleaseTo(group, i)
//
// Records of one Ready are written in the order ready.h asks (snapshot, entries, hard state)
// and admitted to the WAL together, so a torn tail keeps a prefix of them: a state that the
// ordering contract allows.
//
// Thread safety: one thread calls Save/Persist/SaveSnapshot/ReleaseTo; Wait and done
// callbacks may be used from others (they go to the WalWriter, which is thread-safe).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "raft/ready.h"
#include "raft/storage.h"
#include "raft/types.h"
#include "storage/raft_codec.h"
#include "storage/wal_writer.h"

namespace synod::storage {

struct RaftWalOptions {
  WalWriterOptions writer;
};

class RaftWal {
 public:
  struct Opened {
    std::unique_ptr<RaftWal> wal;
    // The recovered state of every group with records in the WAL.
    std::map<raft::GroupId, std::unique_ptr<raft::MemoryStorage>> groups;
    RecoveryInfo info;  // info.warning is set when a torn tail was cut off
  };

  static Result<Opened> Open(const std::string& dir, const RaftWalOptions& options);
  ~RaftWal();
  RaftWal(const RaftWal&) = delete;
  RaftWal& operator=(const RaftWal&) = delete;

  // Queues what one Ready carries for `group` and returns the LSN to Wait for (0 when there
  // was nothing to write). `done` runs once it is complete. `sync` is Ready::must_sync.
  // `writer`: WalWriter::Writer (kCallerWaits: the caller Waits for the LSN next).
  // kLimitExceeded when the snapshot or one entry does not fit in a record.
  Result<uint64_t> Save(raft::GroupId group, const std::optional<raft::HardState>& hard_state,
                        std::span<const raft::Entry> entries,
                        const std::optional<raft::Snapshot>& snapshot, bool sync,
                        WalWriter::Callback done = {},
                        WalWriter::Writer writer = WalWriter::Writer::kSyncThread);
  // Save and Wait: step 1 of the ready.h contract.
  Status Persist(raft::GroupId group, const raft::Ready& ready);
  Status Wait(uint64_t lsn);

  // Durably records a snapshot the application took (MemoryStorage::CreateSnapshot): entries
  // up to its index are no longer needed, later ones stay.
  Status SaveSnapshot(raft::GroupId group, const raft::Snapshot& snapshot);
  // Deletes the segments that only hold records made obsolete by the group's saved snapshot
  // at or below `index`, and by every other group's. kInvalidArgument if `index` is past the
  // group's latest saved snapshot.
  Status ReleaseTo(raft::GroupId group, raft::LogIndex index);

  Status Close();
  WalWriter& writer() { return *writer_; }

 private:
  // Which records recovery of one group still needs, by LSN.
  struct GroupTrack {
    std::optional<raft::HardState> hard_state;  // latest saved
    uint64_t hard_state_lsn = 0;
    uint64_t snapshot_lsn = 0;
    raft::LogIndex snapshot_index;
    raft::LogIndex released;  // entries at or below are not needed (<= snapshot_index)
    // Entries records as (last index, LSN), keeping only those whose last index is larger
    // than every earlier one's: the oldest record holding an entry above `released` is
    // always among them.
    std::deque<std::pair<raft::LogIndex, uint64_t>> entry_records;

    void OnHardState(const raft::HardState& hs, uint64_t lsn);
    void OnEntries(raft::LogIndex last, uint64_t lsn);
    void OnSnapshot(SnapshotMode mode, raft::LogIndex index, uint64_t lsn);
    // The oldest LSN recovery of this group needs, hard state aside; UINT64_MAX if none.
    uint64_t NeededLsn();
  };

  explicit RaftWal(const RaftWalOptions& options) : options_(options) {}
  // Splits entries into records of at most record_bytes_max; `lasts` gets each one's last
  // index.
  Status EncodeEntryRecords(raft::GroupId group, std::span<const raft::Entry> entries,
                            std::vector<WalWriter::Record>* out,
                            std::vector<raft::LogIndex>* lasts) const;
  Status RefreshHardStates(uint64_t needed_lsn);

  const RaftWalOptions options_;
  std::unique_ptr<WalWriter> writer_;
  std::map<raft::GroupId, GroupTrack> tracks_;
};

}  // namespace synod::storage
