#include "mvcc/executor.h"

#include <type_traits>
#include <variant>

#include <rocksdb/comparator.h>

#include "mvcc/codec.h"
#include "mvcc/read_ops.h"

namespace synod::mvcc {
namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

Executor::Executor(rocksdb::DB* db, RecentValues* recent, int64_t current_revision,
                   int64_t compact_revision)
    : current_(current_revision),
      compacted_(compact_revision),
      // overwrite_key: a later write of the same database key in this request replaces the
      // earlier one, so reads through the batch see one value per key.
      batch_(std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0,
                                                            /*overwrite_key=*/true)),
      owned_source_(std::make_unique<BatchSource>(db, batch_.get(), recent)),
      source_(owned_source_.get()),
      index_(source_, current_revision + 1) {}

Executor::Executor(KvSource* source, int64_t current_revision, int64_t compact_revision)
    : current_(current_revision),
      compacted_(compact_revision),
      source_(source),
      index_(source, current_revision) {}

rocksdb::WriteBatchWithIndex& Executor::batch() {
  SYNOD_ASSERT(writable(), "batch() of a read-only executor");
  return *batch_;
}

Outcome<Done> Executor::Write(std::string_view key, const rocksdb::Slice& value) {
  SYNOD_ASSERT(writable(), "write through a read-only executor");
  const rocksdb::Status s = batch_->Put(ToSlice(key), value);
  if (!s.ok()) return StorageError(s, "batch put");
  return Done{};
}

Outcome<Done> Executor::Erase(std::string_view key) {
  SYNOD_ASSERT(writable(), "delete through a read-only executor");
  const rocksdb::Status s = batch_->Delete(ToSlice(key));
  if (!s.ok()) return StorageError(s, "batch delete");
  return Done{};
}

Outcome<bool> Executor::LeaseExists(int64_t id) {
  auto found = source_->Find(codec::LeaseKey(id));
  if (!found.ok()) return found.error();
  return found.value().has_value();
}

Outcome<RangeResult> Executor::Range(const RangeRequest& r) {
  auto rev = ResolveReadRevision(r.revision, current_, compacted_);
  if (!rev.ok()) return rev.error();
  // A range without a revision sees the writes this request made before it.
  const int64_t at = r.revision > 0 ? rev.value() : latest_revision();
  return ExecuteRange(index_, r, at);
}

Outcome<PutResult> Executor::Put(const PutRequest& p) {
  auto prev_hit = index_.Find(p.key, latest_revision());
  if (!prev_hit.ok()) return prev_hit.error();
  std::optional<KeyValue> prev;
  if (prev_hit.value() && !prev_hit.value()->entry.tombstone) {
    auto loaded = index_.Load(*prev_hit.value());
    if (!loaded.ok()) return loaded.error();
    prev = std::move(loaded.value());
  }
  if ((p.ignore_value || p.ignore_lease) && !prev) return Errc::kKeyNotFound;
  const int64_t lease = p.ignore_lease ? prev->lease : p.lease;
  if (lease != kNoLease && !p.ignore_lease) {
    auto exists = LeaseExists(lease);
    if (!exists.ok()) return exists.error();
    if (!exists.value()) return Errc::kLeaseNotFound;
  }

  const int64_t rev = write_revision();
  const int64_t sub = next_sub_++;
  KeyValue kv;
  kv.key = p.key;
  kv.create_revision = prev ? prev->create_revision : rev;
  kv.mod_revision = rev;
  kv.version = prev ? prev->version + 1 : 1;
  kv.value = p.ignore_value ? prev->value : p.value;
  kv.lease = lease;

  const codec::IndexEntry entry{false, sub, kv.create_revision, kv.version, kv.lease};
  const codec::RevisionRecord record{false, kv.key, kv.create_revision, kv.version, kv.lease,
                                     kv.value};
  if (auto w = Write(codec::IndexKey(kv.key, rev), codec::EncodeIndexEntry(entry)); !w.ok()) {
    return w.error();
  }
  if (auto w = Write(codec::RevisionKey(rev, sub), codec::EncodeRevisionRecord(record));
      !w.ok()) {
    return w.error();
  }
  if (auto w = Write(codec::LatestKey(kv.key), codec::EncodeLatestEntry({rev, entry})); !w.ok()) {
    return w.error();
  }
  const int64_t old_lease = prev ? prev->lease : kNoLease;
  if (old_lease != lease) {
    if (old_lease != kNoLease) {
      if (auto w = Erase(codec::AttachKey(old_lease, kv.key)); !w.ok()) return w.error();
    }
    if (lease != kNoLease) {
      if (auto w = Write(codec::AttachKey(lease, kv.key), rocksdb::Slice()); !w.ok()) {
        return w.error();
      }
    }
  }

  PutResult result;
  if (p.prev_kv) result.prev_kv = prev;
  events_.push_back(Event{EventType::kPut, std::move(kv), std::move(prev)});
  return result;
}

Outcome<KeyValue> Executor::DeleteOne(const IndexHit& hit) {
  auto prev = index_.Load(hit);
  if (!prev.ok()) return prev.error();
  const int64_t rev = write_revision();
  const int64_t sub = next_sub_++;
  codec::IndexEntry entry;
  entry.tombstone = true;
  entry.sub = sub;
  codec::RevisionRecord record;
  record.tombstone = true;
  record.key = hit.key;
  if (auto w = Write(codec::IndexKey(hit.key, rev), codec::EncodeIndexEntry(entry)); !w.ok()) {
    return w.error();
  }
  if (auto w = Write(codec::RevisionKey(rev, sub), codec::EncodeRevisionRecord(record));
      !w.ok()) {
    return w.error();
  }
  if (auto w = Erase(codec::LatestKey(hit.key)); !w.ok()) return w.error();
  if (hit.entry.lease != kNoLease) {
    if (auto w = Erase(codec::AttachKey(hit.entry.lease, hit.key)); !w.ok()) return w.error();
  }
  Event event;
  event.type = EventType::kDelete;
  event.kv.key = hit.key;
  event.kv.mod_revision = rev;
  event.prev_kv = prev.value();
  events_.push_back(std::move(event));
  return std::move(prev.value());
}

Outcome<DeleteRangeResult> Executor::DeleteRange(const DeleteRangeRequest& d) {
  // Collect first: the scan must not see the tombstones this loop writes.
  std::vector<IndexHit> hits;
  auto scanned = index_.Scan(KeyRange::FromRequest(d.key, d.range_end), latest_revision(),
                             [&](IndexHit&& hit) {
                               hits.push_back(std::move(hit));
                               return true;
                             });
  if (!scanned.ok()) return scanned.error();
  DeleteRangeResult result;
  for (const IndexHit& hit : hits) {
    auto prev = DeleteOne(hit);
    if (!prev.ok()) return prev.error();
    ++result.deleted;
    if (d.prev_kv) result.prev_kvs.push_back(std::move(prev.value()));
  }
  return result;
}

Outcome<ResponseOp> Executor::RunOp(const RequestOp& op) {
  return std::visit(
      [&](const auto& request) -> Outcome<ResponseOp> {
        using T = std::decay_t<decltype(request)>;
        auto run = [&]() {
          if constexpr (std::is_same_v<T, RangeRequest>) {
            return Range(request);
          } else if constexpr (std::is_same_v<T, PutRequest>) {
            return Put(request);
          } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
            return DeleteRange(request);
          } else {
            static_assert(std::is_same_v<T, TxnRequest>);
            return Txn(request);
          }
        };
        auto result = run();
        if (!result.ok()) return result.error();
        return ResponseOp{std::move(result.value())};
      },
      op.request);
}

Outcome<TxnResult> Executor::Txn(const TxnRequest& t) {
  TxnResult result;
  result.succeeded = true;
  for (const Compare& c : t.compare) {
    auto holds = EvaluateCompare(index_, c, latest_revision());
    if (!holds.ok()) return holds.error();
    if (!holds.value()) {
      result.succeeded = false;
      break;
    }
  }
  const std::vector<RequestOp>& ops = result.succeeded ? t.success : t.failure;
  result.responses.reserve(ops.size());
  for (const RequestOp& op : ops) {
    auto response = RunOp(op);
    if (!response.ok()) return response.error();
    result.responses.push_back(std::move(response.value()));
  }
  return result;
}

Outcome<LeaseGrantResult> Executor::LeaseGrant(const LeaseGrantRequest& g) {
  if (g.id <= kNoLease) return Errc::kInvalidArgument;
  auto exists = LeaseExists(g.id);
  if (!exists.ok()) return exists.error();
  if (exists.value()) return Errc::kLeaseExists;
  if (auto w = Write(codec::LeaseKey(g.id), codec::EncodeInt(g.ttl_seconds)); !w.ok()) {
    return w.error();
  }
  return LeaseGrantResult{};
}

Outcome<LeaseRevokeResult> Executor::LeaseRevoke(const LeaseRevokeRequest& r) {
  auto exists = LeaseExists(r.id);
  if (!exists.ok()) return exists.error();
  if (!exists.value()) return Errc::kLeaseNotFound;

  std::vector<std::string> keys;
  const std::string prefix = codec::AttachPrefix(r.id);
  auto it = source_->NewIterator();
  for (it->Seek(ToSlice(prefix)); it->Valid() && it->key().starts_with(ToSlice(prefix));
       it->Next()) {
    keys.emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
  }
  if (!it->status().ok()) return StorageError(it->status(), "lease attachments");
  it.reset();

  LeaseRevokeResult result;
  for (const std::string& key : keys) {
    auto hit = index_.Find(key, latest_revision());
    if (!hit.ok()) return hit.error();
    const bool live = hit.value() && !hit.value()->entry.tombstone;
    if (!live || hit.value()->entry.lease != r.id) {
      return Error(Errc::kCorruption, "lease attachment of a key not on the lease: " + key);
    }
    auto deleted = DeleteOne(*hit.value());
    if (!deleted.ok()) return deleted.error();
    ++result.deleted;
  }
  if (auto w = Erase(codec::LeaseKey(r.id)); !w.ok()) return w.error();
  return result;
}

}  // namespace synod::mvcc
