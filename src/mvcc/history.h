// Reads over the store's history rather than its state at one revision: the events of a span
// of revisions (for watchers that start in the past) and the hash of the key space's history
// (for comparing replicas). Both read one consistent view.
#pragma once

#include "mvcc/error.h"
#include "mvcc/kv_source.h"
#include "mvcc/types.h"

namespace synod::mvcc {

// `current` and `compacted` are the view's revisions.
Outcome<EventsResult> ReadEventsAt(KvSource& source, const EventsRequest& request,
                                   int64_t current, int64_t compacted);

// REQUIRES: compacted <= revision <= current of the view.
Outcome<HashResult> HashAt(KvSource& source, int64_t revision, int64_t compacted);

}  // namespace synod::mvcc
