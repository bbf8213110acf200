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

std::unique_ptr<rocksdb::Iterator> BatchSource::NewIterator() {
  return std::unique_ptr<rocksdb::Iterator>(
      batch_->NewIteratorWithBase(db_->NewIterator(read_options_)));
}

rocksdb::Status BatchSource::Get(const rocksdb::Slice& key, std::string* value) {
  return batch_->GetFromBatchAndDB(db_, read_options_, key, value);
}

}  // namespace synod::mvcc
