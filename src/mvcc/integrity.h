// A full consistency check of the stored spaces against each other (codec.h), for tests after
// crashes and for operators who suspect damage. Reads everything: O(size of the store).
#pragma once

#include "mvcc/error.h"
#include "mvcc/kv_source.h"

namespace synod::mvcc {

// Checks, on one view at `revision`:
//  - every k/ entry has its r/ record and they agree, and no r/ record lacks its k/ entry;
//  - x/ holds exactly the live keys, each with its newest k/ entry;
//  - a/ holds exactly the (lease, key) pairs of live keys with a lease, and those leases exist;
//  - no version lies above `revision`.
// Returns kCorruption naming the first disagreement.
Outcome<Done> CheckIntegrityAt(KvSource& source, int64_t revision);

}  // namespace synod::mvcc
