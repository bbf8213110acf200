// What KvMachine tells the rest of the member about the key space as it changes: the events of
// each applied entry, and the store's revision whenever the store is opened or replaced by a
// snapshot. The watch hub is the observer. Free of gRPC headers.
#pragma once

#include <cstdint>
#include <vector>

#include "mvcc/types.h"

namespace synod::server {

// Both calls run on the node's event loop thread, which also drives Raft: they must be short
// and never block on I/O or on a client.
class ApplyObserver {
 public:
  virtual ~ApplyObserver() = default;
  // The changes of one applied entry, all at `revision`, in the store's order. Not called for
  // entries that change no key.
  virtual void OnApply(int64_t revision, const std::vector<mvcc::Event>& events) = 0;
  // The store was opened or replaced (snapshot install) and is now at `revision`: the
  // revisions since the last OnApply were not announced and must be read from the store.
  virtual void OnReset(int64_t revision) = 0;
};

}  // namespace synod::server
