#include "mvcc/integrity.h"

#include <string>

#include "mvcc/codec.h"
#include "mvcc/types.h"

namespace synod::mvcc {
namespace {

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

Error Broken(const std::string& what, std::string_view key) {
  return Error(Errc::kCorruption, what + " at " + std::string(key));
}

// Counts the keys of one space; nullopt-free: iterator errors become Errors.
Outcome<uint64_t> CountSpace(KvSource& source, std::string_view prefix) {
  const std::string end = codec::SpaceEnd(prefix);
  uint64_t n = 0;
  auto it = source.NewIterator();
  for (it->Seek(prefix); it->Valid() && View(it->key()) < end; it->Next()) ++n;
  if (!it->status().ok()) return StorageError(it->status(), "integrity count");
  return n;
}

struct IndexTotals {
  uint64_t entries = 0;
  uint64_t live_keys = 0;
};

// One k/ entry against its r/ record.
Outcome<Done> CheckRecord(KvSource& source, const codec::ParsedIndexKey& key,
                          const codec::IndexEntry& entry) {
  auto bytes = source.Find(codec::RevisionKey(key.revision, entry.sub));
  if (!bytes.ok()) return bytes.error();
  if (!bytes.value()) return Broken("index entry without revision record", key.user_key);
  const auto record = codec::DecodeRevisionRecord(*bytes.value());
  if (!record || record->key != key.user_key || record->tombstone != entry.tombstone) {
    return Broken("revision record disagrees with index", key.user_key);
  }
  if (!entry.tombstone &&
      (record->create_revision != entry.create_revision || record->version != entry.version ||
       record->lease != entry.lease)) {
    return Broken("revision record numbers disagree with index", key.user_key);
  }
  return Done{};
}

// The newest k/ entry of a key against x/ and a/.
Outcome<Done> CheckLatest(KvSource& source, const codec::ParsedIndexKey& key,
                          const codec::IndexEntry& entry) {
  auto latest = source.Find(codec::LatestKey(key.user_key));
  if (!latest.ok()) return latest.error();
  if (entry.tombstone) {
    if (latest.value()) return Broken("deleted key still in x/", key.user_key);
    return Done{};
  }
  if (!latest.value()) return Broken("live key missing from x/", key.user_key);
  const auto decoded = codec::DecodeLatestEntry(*latest.value());
  if (!decoded || *decoded != codec::LatestEntry{key.revision, entry}) {
    return Broken("x/ disagrees with the newest index entry", key.user_key);
  }
  if (entry.lease == kNoLease) return Done{};
  auto attached = source.Find(codec::AttachKey(entry.lease, key.user_key));
  auto lease = source.Find(codec::LeaseKey(entry.lease));
  if (!attached.ok()) return attached.error();
  if (!lease.ok()) return lease.error();
  if (!attached.value()) return Broken("leased key missing from a/", key.user_key);
  if (!lease.value()) return Broken("key attached to a lease that does not exist", key.user_key);
  return Done{};
}

Outcome<IndexTotals> CheckIndex(KvSource& source, int64_t revision, uint64_t* leased) {
  IndexTotals totals;
  const std::string end = codec::SpaceEnd(codec::kIndexPrefix);
  std::string key_prefix;
  auto it = source.NewIterator();
  for (it->Seek(codec::kIndexPrefix); it->Valid() && View(it->key()) < end; it->Next()) {
    const auto key = codec::ParseIndexKey(View(it->key()));
    const auto entry = codec::DecodeIndexEntry(View(it->value()));
    if (!key || !entry) return Broken("undecodable index entry", View(it->key()));
    if (key->revision > revision) return Broken("version above the revision", key->user_key);
    ++totals.entries;
    if (auto r = CheckRecord(source, *key, *entry); !r.ok()) return r.error();
    const bool newest = key_prefix.empty() || !View(it->key()).starts_with(key_prefix);
    if (!newest) continue;
    key_prefix.assign(View(it->key()).substr(0, key->prefix_size));
    if (auto r = CheckLatest(source, *key, *entry); !r.ok()) return r.error();
    if (!entry->tombstone) {
      ++totals.live_keys;
      if (entry->lease != kNoLease) ++*leased;
    }
  }
  if (!it->status().ok()) return StorageError(it->status(), "integrity scan");
  return totals;
}

}  // namespace

Outcome<Done> CheckIntegrityAt(KvSource& source, int64_t revision) {
  uint64_t leased = 0;
  auto totals = CheckIndex(source, revision, &leased);
  if (!totals.ok()) return totals.error();
  // Every live key was matched in x/ and every leased one in a/ above; equal counts leave no
  // room for extra records in those spaces, nor for r/ records without an index entry.
  const std::pair<std::string_view, uint64_t> expected[] = {
      {codec::kLatestPrefix, totals.value().live_keys},
      {codec::kAttachPrefix, leased},
      {codec::kRevisionPrefix, totals.value().entries},
  };
  for (const auto& [prefix, want] : expected) {
    auto n = CountSpace(source, prefix);
    if (!n.ok()) return n.error();
    if (n.value() != want) {
      return Error(Errc::kCorruption, "space " + std::string(prefix) + " holds " +
                                          std::to_string(n.value()) + " records, expected " +
                                          std::to_string(want));
    }
  }
  return Done{};
}

}  // namespace synod::mvcc
