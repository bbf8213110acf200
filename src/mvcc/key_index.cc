#include "mvcc/key_index.h"

namespace synod::mvcc {
namespace {

// Versions of one key to step over with Next before a Seek to the next key is cheaper. Most
// keys have few live versions between compactions, and a Seek costs a search in every level.
constexpr int kStepsBeforeSeek = 3;

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// The first index key past every version of every key of `range`.
std::string IndexUpperBound(const KeyRange& range) {
  if (range.single()) return codec::IndexKeyAfter(range.start());
  if (range.unbounded()) return codec::SpaceEnd(codec::kIndexPrefix);
  return codec::IndexKeyPrefix(range.end());
}

Error Corrupt(std::string_view what, std::string_view key) {
  return Error(Errc::kCorruption, std::string(what) + " at " + std::string(key));
}

}  // namespace

KeyValue IndexHit::Meta() const {
  KeyValue kv;
  kv.key = key;
  kv.create_revision = entry.create_revision;
  kv.mod_revision = mod_revision;
  kv.version = entry.version;
  kv.lease = entry.lease;
  return kv;
}

Outcome<std::optional<IndexHit>> KeyIndex::FindLatest(std::string_view key) {
  auto bytes = source_->Find(codec::LatestKey(key));
  if (!bytes.ok()) return bytes.error();
  if (!bytes.value()) return std::optional<IndexHit>();
  const auto latest = codec::DecodeLatestEntry(*bytes.value());
  if (!latest) return Corrupt("bad latest entry", key);
  SYNOD_ASSERT(latest->mod_revision <= latest_, "latest version above the view's revision");
  return std::optional<IndexHit>(IndexHit{std::string(key), latest->mod_revision, latest->entry});
}

Outcome<Done> KeyIndex::ScanLatest(const KeyRange& range,
                                   const std::function<bool(IndexHit&&)>& visit) {
  if (range.single()) {
    auto hit = FindLatest(range.start());
    if (!hit.ok()) return hit.error();
    if (hit.value()) visit(std::move(*hit.value()));
    return Done{};
  }
  const std::string upper = range.unbounded() ? codec::SpaceEnd(codec::kLatestPrefix)
                                              : codec::LatestKey(range.end());
  auto it = source_->NewIterator();
  for (it->Seek(codec::LatestKey(range.start())); it->Valid(); it->Next()) {
    const std::string_view latest_key = View(it->key());
    if (latest_key >= upper) break;
    const auto latest = codec::DecodeLatestEntry(View(it->value()));
    if (!latest) return Corrupt("bad latest entry", latest_key);
    SYNOD_ASSERT(latest->mod_revision <= latest_, "latest version above the view's revision");
    IndexHit hit{std::string(codec::UserKeyOfLatest(latest_key)), latest->mod_revision,
                 latest->entry};
    if (!visit(std::move(hit))) return Done{};
  }
  if (!it->status().ok()) return StorageError(it->status(), "latest scan");
  return Done{};
}

Outcome<std::optional<IndexHit>> KeyIndex::Find(std::string_view key, int64_t revision) {
  if (revision >= latest_) return FindLatest(key);
  const std::string prefix = codec::IndexKeyPrefix(key);
  auto it = source_->NewIterator();
  it->Seek(codec::IndexKey(key, revision));
  if (!it->Valid()) {
    if (!it->status().ok()) return StorageError(it->status(), "index seek");
    return std::optional<IndexHit>();
  }
  const std::string_view found = View(it->key());
  if (!found.starts_with(prefix)) return std::optional<IndexHit>();
  const auto parsed = codec::ParseIndexKey(found);
  if (!parsed) return Corrupt("bad index key", found);
  SYNOD_ASSERT(parsed->revision <= revision, "index seek landed on a newer version");
  const auto entry = codec::DecodeIndexEntry(View(it->value()));
  if (!entry) return Corrupt("bad index entry", found);
  return std::optional<IndexHit>(IndexHit{std::string(key), parsed->revision, *entry});
}

Outcome<Done> KeyIndex::Scan(const KeyRange& range, int64_t revision,
                             const std::function<bool(IndexHit&&)>& visit) {
  if (range.empty()) return Done{};
  if (revision >= latest_) return ScanLatest(range, visit);
  return ScanHistory(range, revision, visit);
}

Outcome<Done> KeyIndex::ScanHistory(const KeyRange& range, int64_t revision,
                                    const std::function<bool(IndexHit&&)>& visit) {
  const std::string upper = IndexUpperBound(range);
  auto it = source_->NewIterator();
  it->Seek(codec::IndexKey(range.start(), revision));
  while (it->Valid()) {
    const std::string_view index_key = View(it->key());
    if (index_key >= upper) break;
    auto parsed = codec::ParseIndexKey(index_key);
    if (!parsed) return Corrupt("bad index key", index_key);
    if (parsed->revision > revision) {
      // Versions newer than the read come first; jump to the newest one at or below it.
      it->Seek(codec::IndexKey(parsed->user_key, revision));
      continue;
    }
    const std::string prefix(index_key.substr(0, parsed->prefix_size));
    const auto entry = codec::DecodeIndexEntry(View(it->value()));
    if (!entry) return Corrupt("bad index entry", index_key);
    if (!entry->tombstone) {
      if (!visit(IndexHit{parsed->user_key, parsed->revision, *entry})) return Done{};
    }
    // Skip the key's older versions.
    int steps = 0;
    do {
      it->Next();
      ++steps;
    } while (it->Valid() && View(it->key()).starts_with(prefix) && steps < kStepsBeforeSeek);
    if (it->Valid() && View(it->key()).starts_with(prefix)) {
      it->Seek(codec::IndexKeyAfter(parsed->user_key));
    }
  }
  if (!it->status().ok()) return StorageError(it->status(), "index scan");
  return Done{};
}

Outcome<KeyValue> KeyIndex::Load(const IndexHit& hit) {
  SYNOD_ASSERT(!hit.entry.tombstone, "Load of a deleted version");
  const std::string rkey = codec::RevisionKey(hit.mod_revision, hit.entry.sub);
  auto bytes = source_->Find(rkey);
  if (!bytes.ok()) return bytes.error();
  if (!bytes.value()) return Corrupt("index entry without its revision record", hit.key);
  auto record = codec::DecodeRevisionRecord(*bytes.value());
  if (!record || record->tombstone || record->key != hit.key) {
    return Corrupt("revision record disagrees with the index", hit.key);
  }
  KeyValue kv = hit.Meta();
  kv.value = std::move(record->value);
  return kv;
}

}  // namespace synod::mvcc

namespace synod::mvcc {

Outcome<std::vector<std::string>> KeyIndex::LoadValues(const std::vector<IndexHit>& hits) {
  std::vector<std::string> keys;
  keys.reserve(hits.size());
  for (const IndexHit& hit : hits) {
    SYNOD_ASSERT(!hit.entry.tombstone, "LoadValues of a deleted version");
    keys.push_back(codec::RevisionKey(hit.mod_revision, hit.entry.sub));
  }
  auto found = source_->FindMany(keys);
  if (!found.ok()) return found.error();
  std::vector<std::string> values;
  values.reserve(hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    if (!found.value()[i]) return Corrupt("index entry without its revision record", hits[i].key);
    auto record = codec::DecodeRevisionRecord(*found.value()[i]);
    if (!record || record->tombstone || record->key != hits[i].key) {
      return Corrupt("revision record disagrees with the index", hits[i].key);
    }
    values.push_back(std::move(record->value));
  }
  return values;
}

}  // namespace synod::mvcc
