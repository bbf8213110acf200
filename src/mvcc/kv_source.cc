#include "mvcc/kv_source.h"

namespace synod::mvcc {

Error StorageError(const rocksdb::Status& s, std::string_view what) {
  std::string detail(what);
  detail += ": ";
  detail += s.ToString();
  return Error(s.IsCorruption() ? Errc::kCorruption : Errc::kStorage, std::move(detail));
}

Outcome<std::optional<std::string>> KvSource::Find(std::string_view key) {
  std::string value;
  const rocksdb::Status s = Get(rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return StorageError(s, "get");
  return std::optional<std::string>(std::move(value));
}

Outcome<std::vector<std::optional<std::string>>> KvSource::FindMany(
    const std::vector<std::string>& keys) {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  MultiGet(keys.size(), slices.data(), values.data(), statuses.data());
  std::vector<std::optional<std::string>> found(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return StorageError(statuses[i], "multi-get");
    found[i] = values[i].ToString();
  }
  return found;
}

SnapshotSource::SnapshotSource(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {
  read_options_.snapshot = snapshot_;
}

SnapshotSource::~SnapshotSource() { db_->ReleaseSnapshot(snapshot_); }

std::unique_ptr<rocksdb::Iterator> SnapshotSource::NewIterator() {
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(read_options_));
}

rocksdb::Status SnapshotSource::Get(const rocksdb::Slice& key, std::string* value) {
  return db_->Get(read_options_, key, value);
}

void SnapshotSource::MultiGet(size_t n, const rocksdb::Slice* keys,
                              rocksdb::PinnableSlice* values, rocksdb::Status* statuses) {
  db_->MultiGet(read_options_, db_->DefaultColumnFamily(), n, keys, values, statuses);
}

std::unique_ptr<rocksdb::Iterator> BatchSource::NewIterator() {
  return std::unique_ptr<rocksdb::Iterator>(
      batch_->NewIteratorWithBase(db_->NewIterator(read_options_)));
}

rocksdb::Status BatchSource::Get(const rocksdb::Slice& key, std::string* value) {
  // Once the request has written something, its own writes must be seen: read through the
  // batch. Before that (every put's lookup of the version it replaces), the database alone.
  if (recent_ == nullptr || batch_->GetWriteBatch()->Count() > 0) {
    return batch_->GetFromBatchAndDB(db_, read_options_, key, value);
  }
  const std::string_view k(key.data(), key.size());
  if (recent_->Lookup(k, value)) return rocksdb::Status::OK();
  rocksdb::Status s = db_->Get(read_options_, key, value);
  if (s.ok()) recent_->Insert(k, *value);
  return s;
}

}  // namespace synod::mvcc

namespace synod::mvcc {

void BatchSource::MultiGet(size_t n, const rocksdb::Slice* keys, rocksdb::PinnableSlice* values,
                           rocksdb::Status* statuses) {
  batch_->MultiGetFromBatchAndDB(db_, read_options_, db_->DefaultColumnFamily(), n, keys, values,
                                 statuses, /*sorted_input=*/false);
}

}  // namespace synod::mvcc
