#include "mvcc/store.h"

#include <algorithm>
#include <mutex>
#include <type_traits>
#include <variant>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "base/crc32c.h"
#include "mvcc/codec.h"
#include "mvcc/compactor.h"
#include "mvcc/executor.h"
#include "mvcc/history.h"
#include "mvcc/integrity.h"
#include "mvcc/kv_source.h"
#include "mvcc/read_ops.h"
#include "mvcc/request_check.h"

namespace synod::mvcc {
namespace {

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// The meta values every store has once initialized.
struct Meta {
  int64_t revision = 1;
  int64_t compacted = 0;
  int64_t compact_done = 0;
  RaftIndex applied{0};
};

// The key spaces whose writes land next to the previous write of the same space: revision
// records (r/, ascending revisions) and the apply state (m/, the same key every entry). The
// memtable keeps the last insert position per space and starts the next insert there
// instead of searching the skip list from its top; index and latest keys (k/, x/) land at
// random user keys and keep the plain insert.
class SequentialSpaces final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "synod.SequentialSpaces"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), 2);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.starts_with(rocksdb::Slice(codec::kRevisionPrefix.data(), 2)) ||
           key.starts_with(rocksdb::Slice("m/", 2));
  }
};

rocksdb::Options DbOptions(const StoreOptions& o) {
  rocksdb::Options opts;
  // One writer at a time (write_mu): the memtable's single-writer insert, which can use the
  // insert hints below, is the one that runs anyway.
  opts.allow_concurrent_memtable_write = false;
  opts.memtable_insert_with_hint_prefix_extractor = std::make_shared<SequentialSpaces>();
  opts.create_if_missing = o.create_if_missing;
  opts.write_buffer_size = o.write_buffer_bytes;
  // A torn tail of RocksDB's own log is cut off on recovery and everything before it kept:
  // the store reopens at a prefix of the applied batches, which the Raft log then extends.
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // A read or apply that drops the last reference to files a compaction replaced would delete
  // them itself (a defragmentation replaces the whole store): background jobs do it instead.
  opts.avoid_unnecessary_blocking_io = true;
  // Compactions write their files back to disk as they go, not in one burst at the end that
  // the writes of applies would queue behind.
  opts.bytes_per_sync = size_t{1} << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  // Index and filter blocks live in the cache too, so memory stays within the configured
  // budgets however many keys the store holds. They are partitioned: a whole-file filter of a
  // large table would not fit the cache well and would be read again and again.
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  // Point reads of the revision space (values, leases) skip files that cannot hold the key.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return opts;
}

bool HasWrites(const std::vector<RequestOp>& ops) {
  for (const RequestOp& op : ops) {
    if (std::holds_alternative<PutRequest>(op.request) ||
        std::holds_alternative<DeleteRangeRequest>(op.request)) {
      return true;
    }
    if (const auto* t = std::get_if<TxnRequest>(&op.request)) {
      if (HasWrites(t->success) || HasWrites(t->failure)) return true;
    }
  }
  return false;
}

Outcome<int64_t> ReadMetaInt(rocksdb::DB* db, std::string_view key, int64_t missing) {
  std::string value;
  const rocksdb::Status s = db->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return missing;
  if (!s.ok()) return StorageError(s, "meta read");
  const auto v = codec::DecodeInt(value);
  if (!v) return Error(Errc::kCorruption, "bad meta value " + std::string(key));
  return *v;
}

}  // namespace

struct Store::Impl {
  StoreOptions options;
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::WriteOptions write_options;  // sync off: see store.h

  // Serializes everything that writes: Apply, ApplyNoop, compaction, checkpoints.
  std::mutex write_mu;
  // Guards `meta`, and pairs each reader's snapshot with the meta it reads under.
  mutable std::mutex view_mu;
  Meta meta;
  size_t compaction_batches = 0;  // for the testing fault point
  // What applies read most: kept equal to the database by Commit (under write_mu only).
  std::unique_ptr<RecentValues> recent;

  // A snapshot and the revisions it holds (Commit keeps the two in step).
  struct ReadView {
    std::unique_ptr<SnapshotSource> source;
    int64_t revision = 0;
    int64_t compacted = 0;
  };

  ReadView TakeView() const {
    std::lock_guard lock(view_mu);
    return ReadView{std::make_unique<SnapshotSource>(db.get()), meta.revision, meta.compacted};
  }

  Meta CurrentMeta() const {
    std::lock_guard lock(view_mu);
    return meta;
  }

  Outcome<Done> Initialize();
  Outcome<Done> LoadMeta();
  Outcome<Done> Commit(rocksdb::WriteBatch* batch, const Meta& next);
  Outcome<Done> CommitAppliedOnly(RaftIndex index);
  Outcome<Done> FinishPhysicalCompaction();
  Outcome<ApplyResult> ApplyCompact(RaftIndex index, const CompactRequest& c);
  Outcome<ApplyResult> ApplyWrite(RaftIndex index, const WriteRequest& request,
                                  const FenceMarksFn* marks);
};

Outcome<Done> Store::Impl::Initialize() {
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(codec::kMetaFormat, codec::EncodeInt(codec::kFormatVersion));
  if (s.ok()) s = batch.Put(codec::kMetaApplyState, codec::EncodeApplyState({0, 1}));
  if (s.ok()) s = batch.Put(codec::kMetaCompact, codec::EncodeInt(0));
  if (s.ok()) s = batch.Put(codec::kMetaCompactDone, codec::EncodeInt(0));
  if (s.ok()) s = db->Write(write_options, &batch);
  if (!s.ok()) return StorageError(s, "initialize");
  meta = Meta{};
  return Done{};
}

Outcome<Done> Store::Impl::LoadMeta() {
  auto format = ReadMetaInt(db.get(), codec::kMetaFormat, -1);
  if (!format.ok()) return format.error();
  if (format.value() == -1) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (!it->status().ok()) return StorageError(it->status(), "open scan");
    if (it->Valid()) return Error(Errc::kCorruption, "not an mvcc store: no format key");
    return Initialize();
  }
  if (format.value() != codec::kFormatVersion) {
    return Error(Errc::kCorruption, "unknown store format " + std::to_string(format.value()));
  }
  Meta m;
  const std::pair<std::string_view, int64_t*> fields[] = {
      {codec::kMetaCompact, &m.compacted},
      {codec::kMetaCompactDone, &m.compact_done},
  };
  for (const auto& [key, out] : fields) {
    auto v = ReadMetaInt(db.get(), key, -1);
    if (!v.ok()) return v.error();
    if (v.value() < 0) return Error(Errc::kCorruption, "missing meta " + std::string(key));
    *out = v.value();
  }
  std::string state_bytes;
  const rocksdb::Status s = db->Get(rocksdb::ReadOptions(), codec::kMetaApplyState, &state_bytes);
  if (!s.ok()) return StorageError(s, "apply state");
  const auto state = codec::DecodeApplyState(state_bytes);
  if (!state) return Error(Errc::kCorruption, "bad apply state");
  m.applied = RaftIndex(state->applied_index);
  m.revision = state->revision;
  if (m.revision < 1 || m.compacted > m.revision || m.compact_done > m.compacted) {
    return Error(Errc::kCorruption, "inconsistent meta revisions");
  }
  std::lock_guard lock(view_mu);
  meta = m;
  return Done{};
}

// Adds the meta of `next` to `batch`, writes it and publishes `next` to readers. Readers take
// their snapshot under the same lock, so a snapshot never holds a write its meta does not
// know of (x/ reflects exactly the view's revision).
Outcome<Done> Store::Impl::Commit(rocksdb::WriteBatch* batch, const Meta& next) {
  const Meta before = CurrentMeta();
  SYNOD_ASSERT(next.applied > before.applied, "commit without a newer applied index");
  SYNOD_ASSERT(next.revision >= before.revision, "revision moved backwards");
  rocksdb::Status s = batch->Put(codec::kMetaApplyState,
                                 codec::EncodeApplyState({next.applied.value, next.revision}));
  if (!s.ok()) return StorageError(s, "apply batch");
  std::lock_guard lock(view_mu);
  s = db->Write(write_options, batch);
  if (!s.ok()) {
    // RocksDB may have kept part of it in the memtable: the copy no longer knows what is there.
    recent->Clear();
    return StorageError(s, "apply write");
  }
  recent->Written(*batch);
  meta = next;
  return Done{};
}

Outcome<Done> Store::Impl::CommitAppliedOnly(RaftIndex index) {
  rocksdb::WriteBatch batch;
  Meta next = CurrentMeta();
  next.applied = index;
  return Commit(&batch, next);
}

Outcome<Done> Store::Impl::FinishPhysicalCompaction() {
  Meta m = CurrentMeta();
  if (m.compact_done >= m.compacted) return Done{};
  std::string cursor;
  {
    std::string value;
    const rocksdb::Status s =
        db->Get(rocksdb::ReadOptions(), codec::kMetaCompactCursor, &value);
    if (!s.ok() && !s.IsNotFound()) return StorageError(s, "compaction cursor");
    if (s.ok()) cursor = std::move(value);
  }
  // The batches below delete old versions' revision records, some of which may be in the
  // copy; nothing reads or writes through it until they are done.
  recent->Clear();
  for (;;) {
    if (options.testing_compaction_batches_max > 0 &&
        compaction_batches >= options.testing_compaction_batches_max) {
      return Done{};  // the simulated crash: the work stays recorded as unfinished
    }
    auto next = CompactBatch(db.get(), write_options, m.compacted, cursor,
                             options.compaction_batch_keys);
    if (!next.ok()) return next.error();
    ++compaction_batches;
    if (!next.value()) break;
    cursor = std::move(*next.value());
  }
  std::lock_guard lock(view_mu);
  meta.compact_done = m.compacted;
  return Done{};
}

Outcome<ApplyResult> Store::Impl::ApplyCompact(RaftIndex index, const CompactRequest& c) {
  const Meta before = CurrentMeta();
  std::optional<Errc> rejected;
  if (c.revision <= before.compacted) {
    rejected = Errc::kCompacted;
  } else if (c.revision > before.revision) {
    rejected = Errc::kFutureRevision;
  }
  if (rejected) {
    if (auto done = CommitAppliedOnly(index); !done.ok()) return done.error();
    return *rejected;
  }
  // The logical step, atomically with the entry: from here on reads below c.revision fail.
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(codec::kMetaCompact, codec::EncodeInt(c.revision));
  if (s.ok()) s = batch.Delete(codec::kMetaCompactCursor);  // a new pass starts at the first key
  if (!s.ok()) return StorageError(s, "compact batch");
  Meta next = before;
  next.applied = index;
  next.compacted = c.revision;
  if (auto done = Commit(&batch, next); !done.ok()) return done.error();
  // The physical step. A failure here is fatal to the server but leaves the store consistent:
  // the entry counts as applied and Open resumes the work.
  if (auto done = FinishPhysicalCompaction(); !done.ok()) return done.error();
  return ApplyResult{before.revision, CompactResult{}, {}};
}

Outcome<ApplyResult> Store::Impl::ApplyWrite(RaftIndex index, const WriteRequest& request,
                                             const FenceMarksFn* marks) {
  const Meta before = CurrentMeta();
  Executor executor(db.get(), recent.get(), before.revision, before.compacted);
  auto result = std::visit(
      [&](const auto& r) -> Outcome<WriteResult> {
        using T = std::decay_t<decltype(r)>;
        auto wrap = [](auto outcome) -> Outcome<WriteResult> {
          if (!outcome.ok()) return outcome.error();
          return WriteResult(std::move(outcome.value()));
        };
        if constexpr (std::is_same_v<T, PutRequest>) {
          if (auto e = CheckPut(r)) return *e;
          return wrap(executor.Put(r));
        } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
          if (auto e = CheckDeleteRange(r)) return *e;
          return wrap(executor.DeleteRange(r));
        } else if constexpr (std::is_same_v<T, TxnRequest>) {
          if (auto e = CheckTxn(r, options.txn_ops_max)) return *e;
          return wrap(executor.Txn(r));
        } else if constexpr (std::is_same_v<T, LeaseGrantRequest>) {
          return wrap(executor.LeaseGrant(r));
        } else if constexpr (std::is_same_v<T, LeaseRevokeRequest>) {
          return wrap(executor.LeaseRevoke(r));
        } else {
          static_assert(std::is_same_v<T, CompactRequest>);
          SYNOD_UNREACHABLE("compaction is applied by ApplyCompact");
        }
      },
      request);
  if (!result.ok()) {
    if (result.error().fatal()) return result.error();
    // The request's answer is an error: its changes are dropped, the entry is consumed.
    if (auto done = CommitAppliedOnly(index); !done.ok()) return done.error();
    return result.error();
  }
  Meta next = before;
  next.applied = index;
  next.revision = executor.committed_revision();
  std::vector<Event> events = executor.TakeEvents();
  SYNOD_ASSERT(events.empty() == !executor.changed(), "events disagree with the changes");
  if (marks != nullptr && *marks) {
    for (const FenceMark& m : (*marks)(events)) {
      const rocksdb::Status s = executor.batch().Put(std::string(codec::kMetaFencePrefix) + m.name,
                                                     codec::EncodeInt(m.token));
      if (!s.ok()) return StorageError(s, "fence mark");
    }
  }
  if (auto done = Commit(executor.batch().GetWriteBatch(), next); !done.ok()) {
    return done.error();
  }
  return ApplyResult{next.revision, std::move(result.value()), std::move(events)};
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() {
  if (impl_ && impl_->db) {
    // Close reports errors that nobody can act on here; the next Open recovers from the log.
    (void)impl_->db->Close();
  }
}

Outcome<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  SYNOD_ASSERT(options.compaction_batch_keys > 0, "compaction_batch_keys must be positive");
  SYNOD_ASSERT(options.txn_ops_max > 0, "txn_ops_max must be positive");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->write_options.sync = false;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(DbOptions(options), options.path, &raw);
  if (!s.ok()) return StorageError(s, "open " + options.path);
  impl->db.reset(raw);
  impl->recent = std::make_unique<RecentValues>(options.recent_values_bytes);
  if (auto loaded = impl->LoadMeta(); !loaded.ok()) return loaded.error();
  if (auto done = impl->FinishPhysicalCompaction(); !done.ok()) return done.error();
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Outcome<ApplyResult> Store::Apply(RaftIndex index, const WriteRequest& request) {
  std::lock_guard lock(impl_->write_mu);
  SYNOD_ASSERT(index > impl_->CurrentMeta().applied, "entry applied twice or out of order");
  if (const auto* c = std::get_if<CompactRequest>(&request)) return impl_->ApplyCompact(index, *c);
  return impl_->ApplyWrite(index, request, nullptr);
}

Outcome<ApplyResult> Store::Apply(RaftIndex index, const WriteRequest& request,
                                  const FenceMarksFn& marks) {
  std::lock_guard lock(impl_->write_mu);
  SYNOD_ASSERT(index > impl_->CurrentMeta().applied, "entry applied twice or out of order");
  if (const auto* c = std::get_if<CompactRequest>(&request)) return impl_->ApplyCompact(index, *c);
  return impl_->ApplyWrite(index, request, &marks);
}

Outcome<Done> Store::ApplyNoop(RaftIndex index) {
  std::lock_guard lock(impl_->write_mu);
  SYNOD_ASSERT(index > impl_->CurrentMeta().applied, "entry applied twice or out of order");
  return impl_->CommitAppliedOnly(index);
}

Outcome<Done> Store::ApplyAlarms(RaftIndex index, const std::vector<Alarm>& alarms) {
  std::lock_guard lock(impl_->write_mu);
  SYNOD_ASSERT(index > impl_->CurrentMeta().applied, "entry applied twice or out of order");
  std::vector<Alarm> sorted = alarms;
  std::sort(sorted.begin(), sorted.end());
  rocksdb::WriteBatch batch;
  const rocksdb::Status s = batch.Put(codec::kMetaAlarms, codec::EncodeAlarms(sorted));
  if (!s.ok()) return StorageError(s, "alarm batch");
  Meta next = impl_->CurrentMeta();
  next.applied = index;
  return impl_->Commit(&batch, next);
}

Outcome<std::vector<Alarm>> Store::Alarms() const {
  Impl::ReadView view = impl_->TakeView();
  auto bytes = view.source->Find(codec::kMetaAlarms);
  if (!bytes.ok()) return bytes.error();
  if (!bytes.value()) return std::vector<Alarm>{};
  auto alarms = codec::DecodeAlarms(*bytes.value());
  if (!alarms) return Error(Errc::kCorruption, "bad alarm record");
  return std::move(*alarms);
}

Outcome<std::vector<FenceMark>> Store::FenceMarks() const {
  Impl::ReadView view = impl_->TakeView();
  std::vector<FenceMark> marks;
  const std::string end = codec::SpaceEnd(codec::kMetaFencePrefix);
  auto it = view.source->NewIterator();
  for (it->Seek(codec::kMetaFencePrefix); it->Valid() && View(it->key()) < end; it->Next()) {
    const auto token = codec::DecodeInt(View(it->value()));
    if (!token) return Error(Errc::kCorruption, "bad fence mark");
    marks.push_back(
        FenceMark{std::string(View(it->key()).substr(codec::kMetaFencePrefix.size())), *token});
  }
  if (!it->status().ok()) return StorageError(it->status(), "fence mark scan");
  return marks;
}

Outcome<uint32_t> Store::Hash() const {
  Impl::ReadView view = impl_->TakeView();
  uint32_t crc = 0;
  auto it = view.source->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    crc = Crc32c(crc, it->key().data(), it->key().size());
    crc = Crc32c(crc, it->value().data(), it->value().size());
  }
  if (!it->status().ok()) return StorageError(it->status(), "hash scan");
  return crc;
}

Outcome<Done> Store::Defragment() {
  rocksdb::CompactRangeOptions o;
  // Applies and RocksDB's own compactions go on meanwhile; the flush that starts it waits
  // rather than push writes into a stall.
  o.exclusive_manual_compaction = false;
  o.allow_write_stall = false;
  // The last level too: that is where deleted and compacted versions leave tombstones.
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  const rocksdb::Status s = impl_->db->CompactRange(o, nullptr, nullptr);
  if (!s.ok()) return StorageError(s, "defragment");
  return Done{};
}

Outcome<Done> Store::ResetForNewCluster() {
  std::lock_guard lock(impl_->write_mu);
  Meta m = impl_->CurrentMeta();
  rocksdb::WriteBatch batch;
  rocksdb::Status s =
      batch.Put(codec::kMetaApplyState, codec::EncodeApplyState({0, m.revision}));
  if (s.ok()) s = batch.Delete(codec::kMetaAlarms);
  if (s.ok()) s = impl_->db->Write(impl_->write_options, &batch);
  if (s.ok()) s = impl_->db->FlushWAL(/*sync=*/true);
  if (!s.ok()) return StorageError(s, "reset for a new cluster");
  std::lock_guard view_lock(impl_->view_mu);
  impl_->meta.applied = RaftIndex(0);
  return Done{};
}

Outcome<RangeResponse> Store::Range(const RangeRequest& request) const {
  if (auto e = CheckRange(request)) return *e;
  Impl::ReadView view = impl_->TakeView();
  auto rev = ResolveReadRevision(request.revision, view.revision, view.compacted);
  if (!rev.ok()) return rev.error();
  KeyIndex index(view.source.get(), view.revision);
  auto result = ExecuteRange(index, request, rev.value());
  if (!result.ok()) return result.error();
  return RangeResponse{view.revision, std::move(result.value())};
}

Outcome<TxnResponse> Store::ReadTxn(const TxnRequest& request) const {
  if (HasWrites(request.success) || HasWrites(request.failure)) return Errc::kInvalidArgument;
  if (auto e = CheckTxn(request, impl_->options.txn_ops_max)) return *e;
  Impl::ReadView view = impl_->TakeView();
  Executor executor(view.source.get(), view.revision, view.compacted);
  auto result = executor.Txn(request);
  if (!result.ok()) return result.error();
  return TxnResponse{view.revision, std::move(result.value())};
}

Outcome<EventsResult> Store::ReadEvents(const EventsRequest& request) const {
  Impl::ReadView view = impl_->TakeView();
  return ReadEventsAt(*view.source, request, view.revision, view.compacted);
}

Outcome<HashResult> Store::HashKV(int64_t revision) const {
  Impl::ReadView view = impl_->TakeView();
  auto rev = ResolveReadRevision(revision, view.revision, view.compacted);
  if (!rev.ok()) return rev.error();
  return HashAt(*view.source, rev.value(), view.compacted);
}

Outcome<std::vector<Lease>> Store::Leases() const {
  Impl::ReadView view = impl_->TakeView();
  std::vector<Lease> leases;
  const std::string end = codec::SpaceEnd(codec::kLeasePrefix);
  auto it = view.source->NewIterator();
  for (it->Seek(codec::kLeasePrefix); it->Valid() && View(it->key()) < end; it->Next()) {
    const auto id = codec::ParseLeaseKey(View(it->key()));
    const auto ttl = codec::DecodeInt(View(it->value()));
    if (!id || !ttl) return Error(Errc::kCorruption, "bad lease record");
    leases.push_back(Lease{*id, *ttl});
  }
  if (!it->status().ok()) return StorageError(it->status(), "lease scan");
  return leases;
}

Outcome<std::vector<std::string>> Store::LeaseKeys(int64_t id) const {
  Impl::ReadView view = impl_->TakeView();
  std::vector<std::string> keys;
  const std::string prefix = codec::AttachPrefix(id);
  auto it = view.source->NewIterator();
  for (it->Seek(prefix); it->Valid() && View(it->key()).starts_with(prefix); it->Next()) {
    keys.emplace_back(View(it->key()).substr(prefix.size()));
  }
  if (!it->status().ok()) return StorageError(it->status(), "attachment scan");
  return keys;
}

Outcome<Done> Store::CheckIntegrity() const {
  Impl::ReadView view = impl_->TakeView();
  return CheckIntegrityAt(*view.source, view.revision);
}

int64_t Store::revision() const { return impl_->CurrentMeta().revision; }
int64_t Store::compact_revision() const { return impl_->CurrentMeta().compacted; }
RaftIndex Store::applied_index() const { return impl_->CurrentMeta().applied; }

Outcome<CheckpointInfo> Store::CreateCheckpoint(const std::string& dir) {
  // No apply runs meanwhile, so the copy holds exactly the meta read here.
  std::lock_guard lock(impl_->write_mu);
  const Meta m = impl_->CurrentMeta();
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!s.ok()) return StorageError(s, "checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  s = checkpoint->CreateCheckpoint(dir);
  if (!s.ok()) return StorageError(s, "checkpoint into " + dir);
  return CheckpointInfo{m.applied, m.revision};
}

}  // namespace synod::mvcc
