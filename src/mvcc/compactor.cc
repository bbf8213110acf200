#include "mvcc/compactor.h"

#include <rocksdb/write_batch.h>

#include "mvcc/codec.h"
#include "mvcc/kv_source.h"

namespace synod::mvcc {
namespace {

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

}  // namespace

bool SurvivesCompaction(int64_t revision, bool tombstone, bool newest_at_or_below,
                        int64_t compacted) {
  if (revision >= compacted) return true;
  return newest_at_or_below && !tombstone;
}

Outcome<std::optional<std::string>> CompactBatch(rocksdb::DB* db,
                                                 const rocksdb::WriteOptions& write_options,
                                                 int64_t compacted, const std::string& cursor,
                                                 size_t keys_max) {
  SYNOD_ASSERT(keys_max > 0, "compaction batch of no keys");
  rocksdb::WriteBatch batch;
  const std::string space_end = codec::SpaceEnd(codec::kIndexPrefix);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  it->Seek(codec::IndexKeyPrefix(cursor));

  std::optional<std::string> next;
  std::string key_prefix;  // index prefix of the key being worked on
  bool seen_at_or_below = false;
  size_t keys = 0;
  for (; it->Valid() && View(it->key()) < space_end; it->Next()) {
    const std::string_view index_key = View(it->key());
    if (key_prefix.empty() || !index_key.starts_with(key_prefix)) {
      const auto parsed = codec::ParseIndexKey(index_key);
      if (!parsed) return Error(Errc::kCorruption, "bad index key in compaction");
      if (keys == keys_max) {
        next = parsed->user_key;
        break;
      }
      ++keys;
      key_prefix.assign(index_key.substr(0, parsed->prefix_size));
      seen_at_or_below = false;
    }
    const int64_t revision =
        static_cast<int64_t>(~codec::GetBE64(index_key.substr(key_prefix.size())));
    if (revision > compacted) continue;
    const auto entry = codec::DecodeIndexEntry(View(it->value()));
    if (!entry) return Error(Errc::kCorruption, "bad index entry in compaction");
    // Versions come newest first, so the first one at or below the compaction is the newest.
    const bool newest = !seen_at_or_below;
    seen_at_or_below = true;
    if (SurvivesCompaction(revision, entry->tombstone, newest, compacted)) continue;
    rocksdb::Status s = batch.Delete(it->key());
    if (s.ok()) s = batch.Delete(codec::RevisionKey(revision, entry->sub));
    if (!s.ok()) return StorageError(s, "compaction batch");
  }
  if (!it->status().ok()) return StorageError(it->status(), "compaction scan");
  it.reset();

  rocksdb::Status s;
  if (next) {
    s = batch.Put(codec::kMetaCompactCursor, *next);
  } else {
    s = batch.Delete(codec::kMetaCompactCursor);
    if (s.ok()) s = batch.Put(codec::kMetaCompactDone, codec::EncodeInt(compacted));
  }
  if (s.ok()) s = db->Write(write_options, &batch);
  if (!s.ok()) return StorageError(s, "compaction write");
  return next;
}

}  // namespace synod::mvcc
