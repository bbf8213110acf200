// The vocabulary of synod's MVCC key space: key-value versions, watch events, and the requests
// and results of the etcd v3 KV, Lease and Maintenance calls that touch the key space.
//
// The structs mirror etcd's wire messages field for field (plain int64 revisions, versions and
// lease ids, as on the wire) so that the API edge converts them one to one; no gRPC or protobuf
// type appears here. Requests that change the key space are applied through Store::Apply in
// Raft log order; reads go through the Store's read calls.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/strong_int.h"

namespace synod::mvcc {

// Index of the Raft log entry whose apply produced the store's current state. Kept apart from
// raft::LogIndex so this module does not depend on the Raft core.
using RaftIndex = StrongInt<struct RaftIndexTag>;

// Lease id 0 means "no lease", as in etcd.
inline constexpr int64_t kNoLease = 0;

// One version of one key. A key that does not exist has all numbers zero.
struct KeyValue {
  std::string key;
  int64_t create_revision = 0;  // revision of the put that created this generation of the key
  int64_t mod_revision = 0;     // revision of the last write to the key
  int64_t version = 0;          // 1 on creation, +1 per put, back to 0 when deleted
  std::string value;
  int64_t lease = kNoLease;

  bool operator==(const KeyValue&) const = default;
};

enum class EventType : uint8_t { kPut = 0, kDelete = 1 };

// A change to one key at one revision. A delete carries only the key and the revision of the
// delete in `kv` (as etcd's watch does); `prev_kv` is the version the change replaced, absent
// when the key did not exist before or that version has been compacted away.
struct Event {
  EventType type = EventType::kPut;
  KeyValue kv;
  std::optional<KeyValue> prev_kv;

  bool operator==(const Event&) const = default;
};

// ---- Key ranges -------------------------------------------------------------------------------
// A request names the keys [key, range_end). An empty range_end names the single key `key`;
// range_end "\0" (one zero byte) names every key >= key; a range_end <= key names nothing.
// A prefix p is the range [p, PrefixEnd(p)).

// The smallest key greater than every key starting with `prefix`: the prefix with its last
// byte below 0xff incremented and what follows dropped; "\0" (all keys) when every byte is 0xff
// or the prefix is empty.
std::string PrefixEnd(const std::string& prefix);

// ---- Range ------------------------------------------------------------------------------------

enum class SortOrder : uint8_t { kNone = 0, kAscend = 1, kDescend = 2 };
enum class SortTarget : uint8_t { kKey = 0, kVersion = 1, kCreate = 2, kMod = 3, kValue = 4 };

struct RangeRequest {
  std::string key;
  std::string range_end;
  int64_t limit = 0;     // <= 0: no limit
  int64_t revision = 0;  // <= 0: the current revision
  SortOrder sort_order = SortOrder::kNone;
  SortTarget sort_target = SortTarget::kKey;
  bool keys_only = false;
  bool count_only = false;
  // Filters on the returned keys; 0 means no bound. They do not change `count`.
  int64_t min_mod_revision = 0;
  int64_t max_mod_revision = 0;
  int64_t min_create_revision = 0;
  int64_t max_create_revision = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  bool more = false;  // more keys passed the filters than `limit` let through
  int64_t count = 0;  // keys in the range at the revision, before filters and limit

  bool operator==(const RangeResult&) const = default;
};

// ---- Put / DeleteRange ------------------------------------------------------------------------

struct PutRequest {
  std::string key;
  std::string value;
  int64_t lease = kNoLease;
  bool prev_kv = false;
  bool ignore_value = false;  // keep the current value; the key must exist
  bool ignore_lease = false;  // keep the current lease; the key must exist
};

struct PutResult {
  std::optional<KeyValue> prev_kv;  // only when requested and the key existed

  bool operator==(const PutResult&) const = default;
};

struct DeleteRangeRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
};

struct DeleteRangeResult {
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;  // only when requested, in key order

  bool operator==(const DeleteRangeResult&) const = default;
};

// ---- Txn --------------------------------------------------------------------------------------

enum class CompareTarget : uint8_t { kVersion = 0, kCreate = 1, kMod = 2, kValue = 3, kLease = 4 };
enum class CompareResult : uint8_t { kEqual = 0, kGreater = 1, kLess = 2, kNotEqual = 3 };

// Holds when every key of the range satisfies `<key's field> <result> <operand>`. A range with
// no key compares a key whose numbers are all zero, except that a VALUE compare fails.
struct Compare {
  CompareResult result = CompareResult::kEqual;
  CompareTarget target = CompareTarget::kVersion;
  std::string key;
  std::string range_end;
  // The operand for `target` (etcd's oneof target_union); the others are ignored.
  int64_t version = 0;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  std::string value;
  int64_t lease = kNoLease;
};

struct RequestOp;
struct ResponseOp;

// All operations of the branch that runs share one revision, and each sees the writes of the
// operations before it. A key may be written at most once by the branch that runs (checked
// before anything runs, across nested transactions).
struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

struct TxnResult {
  bool succeeded = false;
  std::vector<ResponseOp> responses;

  bool operator==(const TxnResult&) const;
};

struct RequestOp {
  std::variant<RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest> request;
};

struct ResponseOp {
  std::variant<RangeResult, PutResult, DeleteRangeResult, TxnResult> response;

  bool operator==(const ResponseOp&) const = default;
};

inline bool TxnResult::operator==(const TxnResult& o) const {
  return succeeded == o.succeeded && responses == o.responses;
}

// ---- Compaction and leases --------------------------------------------------------------------

// Drops every version that no read at a revision >= `revision` can see. Reads and event reads
// below `revision` then fail with Errc::kCompacted.
struct CompactRequest {
  int64_t revision = 0;
};
struct CompactResult {
  bool operator==(const CompactResult&) const = default;
};

// Records a lease so that keys can be attached to it. The id is chosen before proposing (by the
// leader), never here, so every replica records the same id. Expiry is the server's concern;
// the store keeps the TTL so the server can restore its timers after a restart.
struct LeaseGrantRequest {
  int64_t id = kNoLease;
  int64_t ttl_seconds = 0;
};
struct LeaseGrantResult {
  bool operator==(const LeaseGrantResult&) const = default;
};

// Deletes the lease and, at one new revision, every key attached to it.
struct LeaseRevokeRequest {
  int64_t id = kNoLease;
};
struct LeaseRevokeResult {
  int64_t deleted = 0;

  bool operator==(const LeaseRevokeResult&) const = default;
};

struct Lease {
  int64_t id = kNoLease;
  int64_t ttl_seconds = 0;

  bool operator==(const Lease&) const = default;
};

// ---- Apply ------------------------------------------------------------------------------------

// Everything a committed Raft entry can ask of the key space.
using WriteRequest = std::variant<PutRequest, DeleteRangeRequest, TxnRequest, CompactRequest,
                                  LeaseGrantRequest, LeaseRevokeRequest>;
using WriteResult = std::variant<PutResult, DeleteRangeResult, TxnResult, CompactResult,
                                 LeaseGrantResult, LeaseRevokeResult>;

struct ApplyResult {
  int64_t revision = 0;       // the store's revision after the apply (etcd's header revision)
  WriteResult result;
  std::vector<Event> events;  // the changes, in order, all at `revision`; empty if none
};

// ---- Reads ------------------------------------------------------------------------------------

struct RangeResponse {
  int64_t revision = 0;  // the store's current revision when the read was served
  RangeResult result;
};

struct TxnResponse {
  int64_t revision = 0;
  TxnResult result;
};

// Events of the revisions [start_revision, end_revision] on the keys [key, range_end), for a
// watcher that starts in the past. At most about `events_max` events per call, and never a
// revision cut in two: the reply says where to continue.
struct EventsRequest {
  int64_t start_revision = 0;
  int64_t end_revision = 0;  // <= 0 or beyond the current revision: up to the current one
  std::string key;                            // by default every key:
  std::string range_end = std::string(1, '\0');  // [key, range_end) as in RangeRequest
  bool prev_kv = false;
  size_t events_max = 1000;
};

struct EventsResult {
  std::vector<Event> events;
  int64_t next_revision = 0;  // the first revision not yet read; > end when complete
  int64_t revision = 0;       // the store's current revision when the read was served
};

// A digest of the key space's history up to `revision`, which replicas that applied the same
// entries agree on, whatever the progress of their physical compaction.
struct HashResult {
  uint32_t hash = 0;
  int64_t revision = 0;          // the revision the hash covers
  int64_t compact_revision = 0;  // the compaction the hash was taken under
};

// One raised alarm: which member raised it and its kind (etcd's AlarmType numbers: 1 NOSPACE,
// 2 CORRUPT). The store only keeps them; their meaning is the server's.
struct Alarm {
  uint64_t member_id = 0;
  int32_t type = 0;
  bool operator==(const Alarm&) const = default;
  auto operator<=>(const Alarm&) const = default;
};

}  // namespace synod::mvcc
