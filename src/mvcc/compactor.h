// Physical compaction: removing the versions that a compaction at revision C made unreadable.
//
// Compaction happens in two steps. The logical step (part of applying the Compact entry)
// records C; from then on reads below C fail, so what lies below C no longer matters to any
// answer. The physical step then deletes, key by key, every version no read at a revision
// >= C can see, in bounded batches that each record where to resume. It runs right after the
// logical step and, if a crash cut it short, when the store opens again.
//
// What survives, per key: every version above C, the version at C, and the newest version
// below C unless it is a deletion. (A deletion at exactly C is kept so that a watcher starting
// at C still sees it.)
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <rocksdb/db.h>

#include "mvcc/error.h"

namespace synod::mvcc {

// Whether the version at `revision` survives a compaction at `compacted`, given whether it is
// a deletion and whether it is the newest version of its key at or below `compacted`.
// The single rule that both the compactor and HashKV (which must not depend on how far the
// physical step got) apply.
bool SurvivesCompaction(int64_t revision, bool tombstone, bool newest_at_or_below,
                        int64_t compacted);

// One batch: from user key `cursor` on, removes the dead versions of up to `keys_max` keys
// and records the next cursor, or the end of the work (the compact_done meta key), in the same
// WriteBatch. Returns the next cursor; nullopt when the whole key space is done.
Outcome<std::optional<std::string>> CompactBatch(rocksdb::DB* db,
                                                 const rocksdb::WriteOptions& write_options,
                                                 int64_t compacted, const std::string& cursor,
                                                 size_t keys_max);

}  // namespace synod::mvcc
