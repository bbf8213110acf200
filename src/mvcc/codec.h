// The on-disk layout of the key space: how keys and records of each space are encoded in the
// one RocksDB keyspace. Pure byte manipulation, no RocksDB. Layout (README.md has the picture):
//
//   k/<esc(user key)>\x00\x01<be64(~revision)>  -> IndexEntry       key history, newest first
//   x/<user key>                                -> LatestEntry      live keys, newest version
//   r/<be64(main revision)><be64(sub)>          -> RevisionRecord   every change, in order
//   l/<be64(lease id)>                          -> ttl              granted leases
//   a/<be64(lease id)><user key>                -> ""               keys attached to a lease
//   m/<name>                                    -> meta values      revision, applied index...
//
// esc() doubles as an order-preserving escape: 0x00 becomes 0x00 0xff and the key ends with
// 0x00 0x01, so index keys sort by user key first (bytewise, as etcd orders keys) and then by
// revision, and no user key is a prefix of another's encoding.
//
// x/ repeats, for each live key, the newest entry of k/. It is derived data, kept in the same
// batches, and it makes the common case cheap: a read at the current revision (and the lookup
// of the previous version that every put does) is a point read or a scan of live keys only,
// without stepping over the older versions that k/ keeps until compaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mvcc/types.h"

namespace synod::mvcc::codec {

inline constexpr std::string_view kIndexPrefix = "k/";
inline constexpr std::string_view kLatestPrefix = "x/";
inline constexpr std::string_view kRevisionPrefix = "r/";
inline constexpr std::string_view kLeasePrefix = "l/";
inline constexpr std::string_view kAttachPrefix = "a/";

inline constexpr std::string_view kMetaFormat = "m/format";
// The applied Raft index and the revision, together: every apply rewrites both.
inline constexpr std::string_view kMetaApplyState = "m/apply_state";
inline constexpr std::string_view kMetaCompact = "m/compact";
// Physical compaction: the revision it has completed for every key, and while one is under
// way, the user key it resumes from.
inline constexpr std::string_view kMetaCompactDone = "m/compact_done";
inline constexpr std::string_view kMetaCompactCursor = "m/compact_cursor";
// The server's alarms (etcd's alarm bucket), written with the entry that changed them.
inline constexpr std::string_view kMetaAlarms = "m/alarms";
// Fencing high-water marks (Store::FenceMarks): "m/fence/<lock name>" -> the highest token.
inline constexpr std::string_view kMetaFencePrefix = "m/fence/";

// Bumped when the layout changes incompatibly; Open refuses other versions.
inline constexpr int64_t kFormatVersion = 1;

// The first key after every key that starts with `prefix` (prefix must not end in 0xff).
std::string SpaceEnd(std::string_view prefix);

void PutBE64(std::string* out, uint64_t v);
uint64_t GetBE64(std::string_view bytes);  // REQUIRES: bytes.size() >= 8
std::string EncodeInt(int64_t v);
std::optional<int64_t> DecodeInt(std::string_view bytes);

// ---- k/: the key index ------------------------------------------------------------------------

// Every index key of `user_key` starts with this.
std::string IndexKeyPrefix(std::string_view user_key);
std::string IndexKey(std::string_view user_key, int64_t revision);
// Sorts after every index key of `user_key` and before those of any greater user key.
std::string IndexKeyAfter(std::string_view user_key);

struct ParsedIndexKey {
  std::string user_key;
  int64_t revision = 0;
  size_t prefix_size = 0;  // bytes of IndexKeyPrefix(user_key) at the start of the index key
};
std::optional<ParsedIndexKey> ParseIndexKey(std::string_view index_key);

// One version of a key as the index keeps it: all of KeyValue but the value, so counts,
// filters and compares need not read the revision space.
struct IndexEntry {
  bool tombstone = false;
  int64_t sub = 0;  // where the record sits within its main revision
  int64_t create_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;

  bool operator==(const IndexEntry&) const = default;
};
std::string EncodeIndexEntry(const IndexEntry& e);
std::optional<IndexEntry> DecodeIndexEntry(std::string_view bytes);

// ---- x/: the newest version of each live key ---------------------------------------------------

std::string LatestKey(std::string_view user_key);
// REQUIRES: latest_key starts with kLatestPrefix.
std::string_view UserKeyOfLatest(std::string_view latest_key);

struct LatestEntry {
  int64_t mod_revision = 0;
  IndexEntry entry;  // never a tombstone: deleting a key removes its x/ record

  bool operator==(const LatestEntry&) const = default;
};
std::string EncodeLatestEntry(const LatestEntry& e);
std::optional<LatestEntry> DecodeLatestEntry(std::string_view bytes);

// ---- m/apply_state ----------------------------------------------------------------------------

struct ApplyState {
  uint64_t applied_index = 0;
  int64_t revision = 0;
};
std::string EncodeApplyState(const ApplyState& s);
std::optional<ApplyState> DecodeApplyState(std::string_view bytes);

// ---- m/alarms: (member id, type) pairs, big-endian 8 + 8 bytes each -------------------------
std::string EncodeAlarms(const std::vector<Alarm>& alarms);
std::optional<std::vector<Alarm>> DecodeAlarms(std::string_view bytes);

// ---- r/: the revision space -------------------------------------------------------------------

std::string RevisionKey(int64_t main, int64_t sub);
struct ParsedRevisionKey {
  int64_t main = 0;
  int64_t sub = 0;
};
std::optional<ParsedRevisionKey> ParseRevisionKey(std::string_view key);

struct RevisionRecord {
  bool tombstone = false;
  std::string key;
  int64_t create_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
  std::string value;

  bool operator==(const RevisionRecord&) const = default;
};
std::string EncodeRevisionRecord(const RevisionRecord& r);
std::optional<RevisionRecord> DecodeRevisionRecord(std::string_view bytes);

// ---- l/ and a/: leases ------------------------------------------------------------------------

std::string LeaseKey(int64_t id);
std::optional<int64_t> ParseLeaseKey(std::string_view key);
std::string AttachPrefix(int64_t lease);
std::string AttachKey(int64_t lease, std::string_view user_key);

}  // namespace synod::mvcc::codec
