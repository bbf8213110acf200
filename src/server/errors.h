// The answers clients get when a request fails, in etcd's exact words (src/api's table).
#pragma once

#include "api/etcd_errors.h"
#include "base/status.h"
#include "mvcc/error.h"

namespace synod::server {

// A request error of the store (compacted, future revision, key not found, ...). A fatal store
// error maps to etcd's "corrupt" answer; the server stops applying on those anyway.
api::WireStatus ToWireStatus(const mvcc::Error& error);
// A failure of the node (no leader, timeout, overload, stopping).
api::WireStatus ToWireStatus(const Status& status, bool server_stopping);

}  // namespace synod::server
