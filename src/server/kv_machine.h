// KvMachine: the state machine a synod node replicates, the etcd key space of mvcc::Store.
//
// Commands are serverpb.Command protos (command.proto): the client's etcd request as it
// arrived. Apply converts one to the store's WriteRequest and applies it at the entry's index,
// atomically with the index (mvcc::Store::Apply), so a restarted member re-applies exactly the
// entries after AppliedIndex(). The proposer receives the std::any `ApplyOutcome` (a lease
// keep-alive: `KeepAliveOutcome`).
//
// Leases: the store keeps which leases exist; the optional Lessor (lessor.h) keeps when they
// expire. Apply tells it of every grant, keep-alive and revoke, and Open and Restore rebuild it
// from the store's leases.
//
// Snapshots: BeginSnapshot takes a RocksDB checkpoint of the store on the node's loop (which
// also flushes the store, so the log before it may be discarded); the job it returns packs
// the checkpoint into one image (snapshot_image.h) and writes it to a file in snapshots_dir()
// (snapshot_files.h) on another thread, a buffer at a time. The Raft snapshot, which the node
// keeps in memory and in one WAL record, carries only a descriptor naming that file; the
// transport streams the file to a peer in chunks and writes a received image to a file, whose
// descriptor the node sees; Restore unpacks from the file a buffer at a time. No step holds a
// whole image in memory. Above `snapshot_image_bytes_max` the snapshot fails, the node keeps
// its log and the next attempt waits `snapshot_retry_entries` entries. Restore accepts a
// descriptor or (WAL records written before image files) a whole image.
//
// Threads: Apply, ApplyEmpty, Snapshot, BeginSnapshot and Restore run on the node's event loop
// thread, a snapshot job on a thread of its own (it touches only the checkpoint's folder, the
// snapshot files and snapshot_retry_at_). Read
// may run on any thread at any time; Restore, which swaps the whole store, waits for the reads
// in progress and holds new ones back until the new store is open.
//
// Files: the store lives in `dir`, snapshot images in `dir`.snapshots; Restore unpacks into
// `dir`.incoming and moves the old store to `dir`.old before putting the new one in place, and
// Open finishes an interrupted swap.
#pragma once

#include <any>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "mvcc/store.h"
#include "node/state_machine.h"
#include "server/apply_observer.h"
#include "server/fence.h"
#include "server/lessor.h"
#include "server/member_registry.h"

namespace synod::serverpb {
class Command;
}

namespace synod::server {

struct KvMachineOptions {
  std::string dir;           // the store's directory, e.g. <data-dir>/kv
  mvcc::StoreOptions store;  // `path` is set to `dir`
  // Images are packed, streamed and unpacked a buffer at a time, never whole in memory: the
  // real bound is the disk, which holds the store, its checkpoint and two images.
  uint64_t snapshot_image_bytes_max = uint64_t{1} << 40;
  uint64_t snapshot_retry_entries = 10000;
  std::function<void(std::string_view)> log;  // notable events (snapshots, restores)
  // Told of every applied change and of every store (re)open, on the loop thread (the watch
  // hub). Must outlive the machine; nullptr: nobody listens.
  ApplyObserver* observer = nullptr;
  Lessor* lessor = nullptr;  // optional; must outlive the machine
  // Optional; must outlive the machine. Membership commands and changes are applied to it,
  // and it travels in snapshot images (the file kMembersImageFile beside the checkpoint's).
  MemberRegistry* members = nullptr;
};

// What Apply hands the proposer: the store's answer, or its request error.
using ApplyOutcome = mvcc::Outcome<mvcc::ApplyResult>;
// What Apply hands the proposer of a keep-alive: the lease's granted TTL (0: no such lease)
// and the store's revision.
struct KeepAliveOutcome {
  int64_t ttl_seconds = 0;
  int64_t revision = 0;
};
// What Apply hands the proposer of an alarm command: the alarms it changed (etcd answers
// with the activated or deactivated member alarm, none when nothing changed).
struct AlarmOutcome {
  std::vector<mvcc::Alarm> changed;
  int64_t revision = 0;
};
// etcd's AlarmType numbers.
inline constexpr int32_t kAlarmNoSpace = 1;
inline constexpr int32_t kAlarmCorrupt = 2;

class KvMachine final : public node::StateMachine {
 public:
  static Result<std::unique_ptr<KvMachine>> Open(const KvMachineOptions& options);

  std::any Apply(raft::LogIndex index, std::string_view command) override;
  void ApplyEmpty(raft::LogIndex index) override;
  raft::LogIndex AppliedIndex() const override;
  Result<std::string> Snapshot() override;  // BeginSnapshot and its job, on this thread
  Result<SnapshotJob> BeginSnapshot() override;
  Status Restore(std::string_view data, raft::LogIndex index) override;
  void ApplyConfChange(raft::LogIndex index, std::string_view context,
                       const raft::ConfState& conf) override;

  // Runs `fn(const mvcc::Store&)` and returns what it returns. Any thread.
  template <typename F>
  auto Read(F&& fn) const {
    std::shared_lock<std::shared_mutex> lock(swap_mu_);
    return fn(static_cast<const mvcc::Store&>(*store_));
  }
  // Bytes of the store's files on disk (etcd's "db size"). Any thread.
  int64_t DiskBytes() const;

  // Maintenance (maintenance_service.h); any thread.
  // The alarms applied so far, sorted; NoSpace: a NOSPACE alarm is among them, and Apply
  // refuses puts and txns that put (deletes and compactions still pass, to free space).
  std::vector<mvcc::Alarm> Alarms() const;
  bool NoSpace() const { return no_space_.load(); }
  // A checkpoint of the store in `dir` (which must not exist), for a backup. Backups go under
  // backups_dir(), which Open clears (a crash may leave one behind).
  Result<mvcc::CheckpointInfo> Checkpoint(const std::string& dir) const;
  std::string backups_dir() const { return opts_.dir + ".backups"; }
  // Where snapshot image files live (snapshot_files.h). Open creates it.
  std::string snapshots_dir() const { return opts_.dir + ".snapshots"; }
  // Store::Defragment. Reads and applies continue; a snapshot install waits for it.
  Status Defragment() const;

 private:
  explicit KvMachine(const KvMachineOptions& options) : opts_(options) {}
  Status OpenStore(const std::string& path);
  std::any ApplyKeepAlive(raft::LogIndex index, int64_t lease);
  std::any ApplyAlarm(raft::LogIndex index, int32_t action, uint64_t member, int32_t type);
  Status LoadAlarms();      // the cache below, from the store
  Status LoadFenceMarks();  // fence_marks_, from the store
  // Store::Apply with the fencing high-water marks the entry raises (fence.h).
  ApplyOutcome ApplyFenced(raft::LogIndex index, const serverpb::Command& command,
                           const mvcc::WriteRequest& request);
  std::any ApplyMembership(raft::LogIndex index, const serverpb::Command& command);
  Status RestoreMembers(const std::string& unpacked_dir);
  // The job of BeginSnapshot: the checkpoint in `dir` (of index `applied`) as an image file.
  Result<std::string> PackSnapshot(const std::string& dir, raft::LogIndex applied);
  void PruneImages(raft::LogIndex applied) const;  // logs a failure; the files only stay
  void TellLessor(const mvcc::WriteRequest& request, const ApplyOutcome& outcome);
  Status ResetLessor();  // from the store's leases
  void Log(std::string_view message) const {
    if (opts_.log) opts_.log(message);
  }

  const KvMachineOptions opts_;
  // Guards the store_ pointer: shared for reads, exclusive while Restore swaps it. Apply needs
  // no lock: only the loop thread, which also runs Restore, replaces the pointer.
  mutable std::shared_mutex swap_mu_;
  std::unique_ptr<mvcc::Store> store_;
  // After a snapshot that failed (too large), no new attempt before this index. Set by the
  // snapshot job, read on the loop.
  std::atomic<uint64_t> snapshot_retry_at_{0};
  // The store's alarms, cached: every write checks no_space_. Written on the loop thread.
  mutable std::mutex alarms_mu_;
  std::vector<mvcc::Alarm> alarms_;
  std::atomic<bool> no_space_{false};
  // The store's fence marks (fence.h), cached for the apply path; loop thread only.
  FenceMarkMap fence_marks_;
};

}  // namespace synod::server
