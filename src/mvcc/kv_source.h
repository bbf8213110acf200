// Where the MVCC reads get their bytes: either a RocksDB snapshot (reads served next to the
// apply loop) or a transaction's pending WriteBatch layered over the database (reads inside a
// write transaction, which must see the transaction's own earlier writes). Private to src/mvcc:
// this is the one header that brings RocksDB types into the module's internals.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include "mvcc/error.h"
#include "mvcc/recent_values.h"

namespace synod::mvcc {

// A RocksDB status as an mvcc error: corruption is kept apart from the rest, which is I/O.
Error StorageError(const rocksdb::Status& s, std::string_view what);

class KvSource {
 public:
  virtual ~KvSource() = default;
  // Iterators see the same state as Get. No bounds: callers check the end themselves.
  virtual std::unique_ptr<rocksdb::Iterator> NewIterator() = 0;
  virtual rocksdb::Status Get(const rocksdb::Slice& key, std::string* value) = 0;

  // Looks up many keys in one batched call (RocksDB's MultiGet reads the blocks they share
  // once). values[i] is set for keys[i], nullopt when absent.
  virtual void MultiGet(size_t n, const rocksdb::Slice* keys, rocksdb::PinnableSlice* values,
                        rocksdb::Status* statuses) = 0;

  // Get as an Outcome: nullopt when the key is absent.
  Outcome<std::optional<std::string>> Find(std::string_view key);
  // MultiGet as an Outcome, in the order of `keys`.
  Outcome<std::vector<std::optional<std::string>>> FindMany(const std::vector<std::string>& keys);
};

// A consistent point-in-time view of the database. Owns the snapshot.
class SnapshotSource final : public KvSource {
 public:
  explicit SnapshotSource(rocksdb::DB* db);
  ~SnapshotSource() override;
  SnapshotSource(const SnapshotSource&) = delete;
  SnapshotSource& operator=(const SnapshotSource&) = delete;

  std::unique_ptr<rocksdb::Iterator> NewIterator() override;
  rocksdb::Status Get(const rocksdb::Slice& key, std::string* value) override;
  void MultiGet(size_t n, const rocksdb::Slice* keys, rocksdb::PinnableSlice* values,
                rocksdb::Status* statuses) override;

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions read_options_;
};

// The database as a write transaction sees it: `batch` (not yet written) over the live
// database. Point reads made while the batch is still empty go through `recent` (optional),
// the store's copy of recently used values. REQUIRES: nothing else writes the database while
// this source is in use.
class BatchSource final : public KvSource {
 public:
  BatchSource(rocksdb::DB* db, rocksdb::WriteBatchWithIndex* batch, RecentValues* recent)
      : db_(db), batch_(batch), recent_(recent) {}

  std::unique_ptr<rocksdb::Iterator> NewIterator() override;
  rocksdb::Status Get(const rocksdb::Slice& key, std::string* value) override;
  void MultiGet(size_t n, const rocksdb::Slice* keys, rocksdb::PinnableSlice* values,
                rocksdb::Status* statuses) override;

 private:
  rocksdb::DB* db_;
  rocksdb::WriteBatchWithIndex* batch_;
  RecentValues* recent_;
  rocksdb::ReadOptions read_options_;
};

}  // namespace synod::mvcc
