// synod's MVCC key space: the state machine behind the etcd v3 KV, Watch and Lease APIs,
// stored in RocksDB (layout in codec.h and README.md).
//
// Contract with the server:
//  - Writes arrive only through Apply, one committed Raft entry at a time, in log order, from
//    one thread. Each Apply is one atomic RocksDB WriteBatch holding the request's changes and
//    the entry's index, so after any crash the store holds exactly the entries up to
//    applied_index() and the server re-applies the log after it. Entries that carry nothing
//    for the key space still move the index (ApplyNoop) or may be skipped and re-applied.
//  - Batches are not fsynced: the Raft log is the durable record, so a machine crash that
//    loses the newest batches only moves applied_index() back, and those entries are applied
//    again from the log. RocksDB's own write-ahead log stays on (without sync) so a process
//    crash loses nothing and recovery always yields a prefix of the applied batches.
//  - Reads (Range, ReadTxn, ReadEvents, HashKV, Leases, ...) may come from any thread at any
//    time; each is served from one consistent RocksDB snapshot and never blocks Apply for
//    longer than taking that snapshot.
// Revisions: an empty store is at revision 1. A request that changes keys moves the revision
// by one and all its changes share it; a request that changes nothing (a read-only txn, a
// delete of nothing, a failed request, a lease grant, a compaction) leaves it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mvcc/error.h"
#include "mvcc/types.h"

namespace synod::mvcc {

struct StoreOptions {
  std::string path;  // the RocksDB directory
  bool create_if_missing = true;
  // Longest list a txn may hold (its compares, its success ops, its failure ops, at every
  // nesting level). etcd's default --max-txn-ops.
  size_t txn_ops_max = 128;
  // User keys whose old versions one physical-compaction batch removes; bounds the size of
  // each batch and how long Apply holds the write lock at a time.
  size_t compaction_batch_keys = 1000;
  // RocksDB memory, which stays within about block_cache_bytes + 2 * write_buffer_bytes
  // whatever the number of keys: the block cache (data, index and filter blocks) and the size
  // of one memtable (one is filled while another is flushed).
  size_t block_cache_bytes = size_t{64} << 20;
  size_t write_buffer_bytes = size_t{64} << 20;
  // The in-memory copy of recently written and read latest entries and revision records that
  // applies read before RocksDB (recent_values.h); 0 turns it off.
  size_t recent_values_bytes = size_t{16} << 20;
  // Fault point for crash tests: physical compaction stops after this many batches, as if the
  // process died there (0: never). Open finishes the work.
  size_t testing_compaction_batches_max = 0;
};

struct CheckpointInfo {
  RaftIndex applied_index;
  int64_t revision = 0;
};

// A lock's fencing high-water mark (the server's fence.h): the highest token seen for it.
struct FenceMark {
  std::string name;
  int64_t token = 0;
  bool operator==(const FenceMark&) const = default;
};
// Asked once a request applied without error, before its batch is written, with the events it
// produced (the store's reads still show the state before the entry): the marks to write.
using FenceMarksFn = std::function<std::vector<FenceMark>(const std::vector<Event>&)>;

class Store {
 public:
  // Opens (or creates) the store at options.path. Finishes a physical compaction that a crash
  // interrupted.
  static Outcome<std::unique_ptr<Store>> Open(const StoreOptions& options);
  // REQUIRES: no call on the store in flight.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // ---- writes: the apply loop only ----------------------------------------------------------

  // Applies the committed entry `index` holding `request`. On success the result carries the
  // events for watchers. A request error (Error::fatal() false) is the request's answer: the
  // entry is consumed (applied_index() == index) and nothing else changed. A fatal error
  // leaves the store as it was; the server must stop applying.
  // REQUIRES: index > applied_index().
  Outcome<ApplyResult> Apply(RaftIndex index, const WriteRequest& request);
  // Apply, and the fence marks `marks` returns go into the same batch: they are as durable as
  // the entry, travel in checkpoints, and never show in Range, Watch or HashKV. A request error
  // writes none. A compaction never asks.
  Outcome<ApplyResult> Apply(RaftIndex index, const WriteRequest& request,
                             const FenceMarksFn& marks);
  // Marks an entry without key-space content (a leader's empty entry, a membership change)
  // as applied. REQUIRES: index > applied_index().
  Outcome<Done> ApplyNoop(RaftIndex index);
  // Records the entry `index` that set the server's alarms to `alarms` (replacing the list).
  // REQUIRES: index > applied_index().
  Outcome<Done> ApplyAlarms(RaftIndex index, const std::vector<Alarm>& alarms);

  // ---- reads: any thread ----------------------------------------------------------------------

  Outcome<RangeResponse> Range(const RangeRequest& request) const;
  // A transaction without writes (etcd serves those locally when serializable).
  // kInvalidArgument if any branch holds a put or delete.
  Outcome<TxnResponse> ReadTxn(const TxnRequest& request) const;
  // History for watchers that start in the past: kCompacted below the compaction revision.
  Outcome<EventsResult> ReadEvents(const EventsRequest& request) const;
  // revision <= 0: the current revision. kCompacted / kFutureRevision as for Range.
  Outcome<HashResult> HashKV(int64_t revision) const;
  // Every granted lease, by id; the keys attached to one lease, in key order.
  Outcome<std::vector<Lease>> Leases() const;
  Outcome<std::vector<std::string>> LeaseKeys(int64_t id) const;

  // Cross-checks every stored space against the others (integrity.h); kCorruption on damage.
  // Reads the whole store.
  Outcome<Done> CheckIntegrity() const;

  // The alarms the last ApplyAlarms recorded, sorted.
  Outcome<std::vector<Alarm>> Alarms() const;
  // Every fence mark written so far (the latest per name), sorted by name.
  Outcome<std::vector<FenceMark>> FenceMarks() const;
  // CRC32C over every stored key and value, meta included (etcd's Hash: the whole backend,
  // so members differ where their applied indexes do; for tests and tools).
  Outcome<uint32_t> Hash() const;

  int64_t revision() const;
  int64_t compact_revision() const;
  RaftIndex applied_index() const;

  // ---- snapshots --------------------------------------------------------------------------

  // Writes a complete copy of the store (a RocksDB checkpoint: hard links where it can) into
  // `dir`, which must not exist. The copy holds exactly the entries up to the returned index;
  // Open(dir) opens it as a store, e.g. on a follower that received it as a Raft snapshot.
  Outcome<CheckpointInfo> CreateCheckpoint(const std::string& dir);

  // ---- maintenance ------------------------------------------------------------------------

  // Rewrites the store's files without the space that deleted and compacted data hold
  // (RocksDB's manual compaction of the whole key range, down to the last level). Any thread;
  // Apply and reads go on meanwhile: it runs in RocksDB's background threads without the write
  // lock, and never stalls writes (the files it replaces stay readable until it ends).
  Outcome<Done> Defragment();
  // For a restore into a new cluster: the copy forgets the Raft log it came from (applied
  // index 0, so the new cluster's first entries apply to it) and its alarms. Keys, revisions,
  // compaction and leases stay. REQUIRES: nothing else uses the store.
  Outcome<Done> ResetForNewCluster();

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synod::mvcc
