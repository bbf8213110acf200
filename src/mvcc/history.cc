#include "mvcc/history.h"

#include <memory>
#include <string>

#include "base/crc32c.h"
#include "mvcc/codec.h"
#include "mvcc/compactor.h"
#include "mvcc/key_index.h"
#include "mvcc/key_range.h"

namespace synod::mvcc {
namespace {

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// The version a change at `revision` replaced, if a reader may still see it. Below or at the
// compaction revision it may be physically gone or not, depending on how far the compactor
// got, so it is never reported there: every replica answers alike.
Outcome<std::optional<KeyValue>> PreviousVersion(KeyIndex& index, const std::string& key,
                                                 int64_t revision, int64_t compacted) {
  if (revision <= compacted) return std::optional<KeyValue>();
  auto hit = index.Find(key, revision - 1);
  if (!hit.ok()) return hit.error();
  if (!hit.value() || hit.value()->entry.tombstone) return std::optional<KeyValue>();
  auto kv = index.Load(*hit.value());
  if (!kv.ok()) return kv.error();
  return std::optional<KeyValue>(std::move(kv.value()));
}

Event EventOf(codec::RevisionRecord&& record, int64_t revision) {
  Event e;
  e.type = record.tombstone ? EventType::kDelete : EventType::kPut;
  e.kv.key = std::move(record.key);
  e.kv.mod_revision = revision;
  if (!record.tombstone) {
    e.kv.create_revision = record.create_revision;
    e.kv.version = record.version;
    e.kv.value = std::move(record.value);
    e.kv.lease = record.lease;
  }
  return e;
}

void HashBytes(uint32_t* crc, std::string_view bytes) {
  const auto size = static_cast<uint32_t>(bytes.size());
  *crc = Crc32c(*crc, &size, sizeof(size));
  *crc = Crc32c(*crc, bytes.data(), bytes.size());
}

}  // namespace

Outcome<EventsResult> ReadEventsAt(KvSource& source, const EventsRequest& request,
                                   int64_t current, int64_t compacted) {
  if (request.start_revision <= 0 || request.events_max == 0) return Errc::kInvalidArgument;
  if (request.start_revision < compacted) return Errc::kCompacted;
  const int64_t end = (request.end_revision <= 0 || request.end_revision > current)
                          ? current
                          : request.end_revision;
  EventsResult result;
  result.revision = current;
  result.next_revision = end + 1;
  if (request.start_revision > end) {
    result.next_revision = request.start_revision;
    return result;
  }
  const KeyRange range = KeyRange::FromRequest(request.key, request.range_end);
  KeyIndex index(&source, current);
  const std::string stop = codec::RevisionKey(end + 1, 0);
  auto it = source.NewIterator();
  int64_t last_main = 0;
  for (it->Seek(codec::RevisionKey(request.start_revision, 0));
       it->Valid() && View(it->key()) < stop; it->Next()) {
    const auto rkey = codec::ParseRevisionKey(View(it->key()));
    if (!rkey) return Error(Errc::kCorruption, "bad revision key");
    // Stop between revisions, never inside one, once enough events are in hand.
    if (rkey->main != last_main && result.events.size() >= request.events_max) {
      result.next_revision = rkey->main;
      break;
    }
    last_main = rkey->main;
    auto record = codec::DecodeRevisionRecord(View(it->value()));
    if (!record) return Error(Errc::kCorruption, "bad revision record");
    if (!range.Contains(record->key)) continue;
    Event event = EventOf(std::move(*record), rkey->main);
    if (request.prev_kv) {
      auto prev = PreviousVersion(index, event.kv.key, rkey->main, compacted);
      if (!prev.ok()) return prev.error();
      event.prev_kv = std::move(prev.value());
    }
    result.events.push_back(std::move(event));
  }
  if (!it->status().ok()) return StorageError(it->status(), "event scan");
  return result;
}

Outcome<HashResult> HashAt(KvSource& source, int64_t revision, int64_t compacted) {
  SYNOD_ASSERT(compacted <= revision, "hash below the compaction revision");
  uint32_t crc = 0;
  const std::string space_end = codec::SpaceEnd(codec::kIndexPrefix);
  auto it = source.NewIterator();
  std::string key_prefix;
  bool seen_at_or_below = false;
  for (it->Seek(codec::kIndexPrefix); it->Valid() && View(it->key()) < space_end; it->Next()) {
    const std::string_view index_key = View(it->key());
    if (key_prefix.empty() || !index_key.starts_with(key_prefix)) {
      const auto parsed = codec::ParseIndexKey(index_key);
      if (!parsed) return Error(Errc::kCorruption, "bad index key in hash");
      key_prefix.assign(index_key.substr(0, parsed->prefix_size));
      seen_at_or_below = false;
    }
    const int64_t rev = static_cast<int64_t>(~codec::GetBE64(index_key.substr(key_prefix.size())));
    if (rev > revision) continue;
    const auto entry = codec::DecodeIndexEntry(View(it->value()));
    if (!entry) return Error(Errc::kCorruption, "bad index entry in hash");
    // The logical history after compaction, the same on every replica whatever the physical
    // compactor has removed so far.
    const bool newest = rev <= compacted && !seen_at_or_below;
    if (rev <= compacted) seen_at_or_below = true;
    if (!SurvivesCompaction(rev, entry->tombstone, newest, compacted)) continue;
    auto record = source.Find(codec::RevisionKey(rev, entry->sub));
    if (!record.ok()) return record.error();
    if (!record.value()) return Error(Errc::kCorruption, "index entry without its record");
    HashBytes(&crc, index_key);
    HashBytes(&crc, View(it->value()));
    HashBytes(&crc, *record.value());
  }
  if (!it->status().ok()) return StorageError(it->status(), "hash scan");
  return HashResult{crc, revision, compacted};
}

}  // namespace synod::mvcc
