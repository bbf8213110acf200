// Runs one request against the key space: the KV operations of etcd (Range, Put, DeleteRange,
// Txn) and lease grant/revoke. In write mode the changes collect in a WriteBatchWithIndex, so
// later operations of the same request see them, and the caller commits the batch atomically
// (or drops it when the request fails, which then changes nothing). In read mode the executor
// serves read-only transactions from a snapshot.
#pragma once

#include <memory>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include "mvcc/error.h"
#include "mvcc/key_index.h"
#include "mvcc/kv_source.h"
#include "mvcc/types.h"

namespace synod::mvcc {

class Executor {
 public:
  // Write mode over the live database, point reads through `recent` (may be null). REQUIRES:
  // no other writer until the batch is committed or dropped.
  Executor(rocksdb::DB* db, RecentValues* recent, int64_t current_revision,
           int64_t compact_revision);
  // Read mode over `source`, a view of the store at `current_revision`.
  Executor(KvSource* source, int64_t current_revision, int64_t compact_revision);

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // The revision that this request's writes get, and the store's revision once it commits.
  int64_t write_revision() const { return current_ + 1; }
  int64_t committed_revision() const { return changed() ? current_ + 1 : current_; }
  bool changed() const { return next_sub_ > 0; }

  Outcome<RangeResult> Range(const RangeRequest& r);
  Outcome<PutResult> Put(const PutRequest& p);
  Outcome<DeleteRangeResult> DeleteRange(const DeleteRangeRequest& d);
  // REQUIRES: CheckTxn passed; in read mode, no write anywhere in the txn.
  Outcome<TxnResult> Txn(const TxnRequest& t);
  Outcome<LeaseGrantResult> LeaseGrant(const LeaseGrantRequest& g);
  Outcome<LeaseRevokeResult> LeaseRevoke(const LeaseRevokeRequest& r);

  // The changes so far, in order, all at write_revision().
  std::vector<Event> TakeEvents() { return std::move(events_); }
  // REQUIRES: write mode.
  rocksdb::WriteBatchWithIndex& batch();

 private:
  bool writable() const { return batch_ != nullptr; }
  // The revision at which "the current state" is read: in write mode it includes this
  // request's own writes, which sit at write_revision().
  int64_t latest_revision() const { return writable() ? current_ + 1 : current_; }
  Outcome<Done> Write(std::string_view key, const rocksdb::Slice& value);
  Outcome<Done> Erase(std::string_view key);
  Outcome<bool> LeaseExists(int64_t id);
  // Deletes the live version `hit` at write_revision(); returns the deleted version.
  Outcome<KeyValue> DeleteOne(const IndexHit& hit);
  Outcome<ResponseOp> RunOp(const RequestOp& op);

  int64_t current_;
  int64_t compacted_;
  int64_t next_sub_ = 0;
  std::unique_ptr<rocksdb::WriteBatchWithIndex> batch_;
  std::unique_ptr<KvSource> owned_source_;
  KvSource* source_;
  KeyIndex index_;
  std::vector<Event> events_;
};

}  // namespace synod::mvcc
