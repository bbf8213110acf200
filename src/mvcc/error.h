// Failures of the MVCC store as values. Two kinds, told apart by Error::fatal():
//  - request errors (a compacted or future revision, a missing key or lease, a malformed txn):
//    the answer to the request, the same on every replica. An Apply that fails this way has
//    still consumed its Raft entry (the applied index moved) and changed nothing else;
//  - fatal errors (RocksDB I/O failure, undecodable data): the store cannot go on; the entry
//    was not applied and the server must stop applying.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "base/assert.h"
#include "base/status.h"

namespace synod::mvcc {

enum class Errc : uint8_t {
  kCompacted,        // a read below the compaction revision
  kFutureRevision,   // a read or compaction above the current revision
  kKeyNotFound,      // ignore_value / ignore_lease on a key that does not exist
  kLeaseNotFound,    // a put with, or a revoke of, a lease that was never granted
  kLeaseExists,      // a grant of an id already granted
  kDuplicateKey,     // a txn writing one key twice
  kTooManyOps,       // a txn list longer than StoreOptions::txn_ops_max
  kEmptyKey,         // a request without a key
  kValueProvided,    // ignore_value together with a value
  kLeaseProvided,    // ignore_lease together with a lease
  kInvalidArgument,  // anything else malformed (a lease id <= 0, ...)
  kNoSpace,          // a write while the NOSPACE alarm is active (decided by the server)
  kStaleFence,       // a write whose fencing token a newer lock holder outdates (the server)
  kStorage,          // fatal: RocksDB failed
  kCorruption,       // fatal: data on disk does not decode or breaks an invariant
};

// The client-visible text, worded as etcd words it (clients match on it); the API edge adds
// etcd's prefixes ("etcdserver: ", "mvcc: ") where etcd has them.
const char* ErrcMessage(Errc code);

class Error {
 public:
  Error(Errc code, std::string detail = {}) : code_(code), detail_(std::move(detail)) {}  // NOLINT

  Errc code() const { return code_; }
  // Extra context for logs (a RocksDB status text, the offending key); never for clients.
  const std::string& detail() const { return detail_; }
  bool fatal() const { return code_ == Errc::kStorage || code_ == Errc::kCorruption; }
  std::string ToString() const;
  // The same failure in the project-wide Status vocabulary, for callers outside mvcc.
  Status ToStatus() const;

  bool operator==(const Error& o) const { return code_ == o.code_; }

 private:
  Errc code_;
  std::string detail_;
};

// For operations whose success carries no value.
struct Done {};

template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Outcome(Error error) : v_(std::move(error)) {}  // NOLINT
  Outcome(Errc code) : v_(Error(code)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Error& error() const {
    SYNOD_ASSERT(!ok(), "error() on an Outcome that holds a value");
    return std::get<Error>(v_);
  }
  T& value() {
    SYNOD_ASSERT(ok(), "value() on an Outcome that holds an error");
    return std::get<T>(v_);
  }
  const T& value() const {
    SYNOD_ASSERT(ok(), "value() on an Outcome that holds an error");
    return std::get<T>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

}  // namespace synod::mvcc
