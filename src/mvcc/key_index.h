// Reads of the key index (codec.h): which version of a key, or of every key of a range, is
// visible at a revision, and the full KeyValue of such a version from the revision space.
// Reads at the source's newest revision use the x/ space of live keys; older ones the k/
// history. Works on any KvSource, so reads inside a write transaction see its pending writes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mvcc/codec.h"
#include "mvcc/error.h"
#include "mvcc/key_range.h"
#include "mvcc/kv_source.h"
#include "mvcc/types.h"

namespace synod::mvcc {

// One version of one key, as the index knows it.
struct IndexHit {
  std::string key;
  int64_t mod_revision = 0;
  codec::IndexEntry entry;

  // The version without its value (which lives in the revision space).
  KeyValue Meta() const;
};

class KeyIndex {
 public:
  // `latest_revision`: the revision of the newest state `source` holds, the one x/ reflects.
  KeyIndex(KvSource* source, int64_t latest_revision)
      : source_(source), latest_(latest_revision) {}

  // The newest version of `key` at or below `revision`; nullopt or a tombstone when the key
  // is not live there (never written, deleted, or compacted away).
  Outcome<std::optional<IndexHit>> Find(std::string_view key, int64_t revision);

  // Calls `visit` for each key of `range` that is live (not deleted) at `revision`, in key
  // order, with its visible version, until `visit` returns false.
  Outcome<Done> Scan(const KeyRange& range, int64_t revision,
                     const std::function<bool(IndexHit&&)>& visit);

  // The full version, value included. REQUIRES: hit is not a tombstone.
  Outcome<KeyValue> Load(const IndexHit& hit);
  // The values of many versions in one batched read, in the order of `hits`.
  // REQUIRES: no hit is a tombstone.
  Outcome<std::vector<std::string>> LoadValues(const std::vector<IndexHit>& hits);

 private:
  Outcome<std::optional<IndexHit>> FindLatest(std::string_view key);
  Outcome<Done> ScanLatest(const KeyRange& range, const std::function<bool(IndexHit&&)>& visit);
  Outcome<Done> ScanHistory(const KeyRange& range, int64_t revision,
                            const std::function<bool(IndexHit&&)>& visit);

  KvSource* source_;
  int64_t latest_;
};

}  // namespace synod::mvcc
