// The read side of the etcd KV semantics, shared by plain reads and reads inside transactions:
// which revision a request reads, Range (filters, sort, limit, count) and Txn compares.
#pragma once

#include "mvcc/error.h"
#include "mvcc/key_index.h"
#include "mvcc/types.h"

namespace synod::mvcc {

// The revision a read asks for (<= 0: `current`), or why it cannot be served: below the
// compaction revision, or above the current one.
Outcome<int64_t> ResolveReadRevision(int64_t requested, int64_t current, int64_t compacted);

// REQUIRES: `revision` resolved by ResolveReadRevision, and the request passed CheckRange.
Outcome<RangeResult> ExecuteRange(KeyIndex& index, const RangeRequest& request,
                                  int64_t revision);

// Whether `compare` holds at `revision` (types.h, Compare).
Outcome<bool> EvaluateCompare(KeyIndex& index, const Compare& compare, int64_t revision);

// Whether `kv` satisfies `compare` (pure; exposed for tests).
bool CompareHolds(const Compare& compare, const KeyValue& kv);

}  // namespace synod::mvcc
