// The etcd v3 KV service (Range, Put, DeleteRange, Txn, Compact) on gRPC's callback API:
// handlers start the work and return at once; the answer is sent from the executor when Raft
// has committed and applied the write, or confirmed the read (serving_context.h).
//
// Reads are linearizable unless the request says serializable: a ReadIndex barrier through the
// leader, then the local store (etcd's default). Read-only txns are served like reads; write
// txns, puts, deletes and compactions go through the Raft log.
#pragma once

#include <memory>

namespace grpc {
class Service;
}

namespace synod::server {

class ServingContext;

std::unique_ptr<grpc::Service> NewKvService(ServingContext* context);

}  // namespace synod::server
