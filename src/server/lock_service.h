// etcd's Lock service (v3lockpb: Lock, Unlock) and Election service (v3electionpb: Campaign,
// Proclaim, Leader, Observe, Resign), served by the member itself on its KV, Lease and Raft
// machinery with etcd's concurrency recipes (lock_recipes.h): wire-compatible with etcd's.
//
// Lock answers with the key `name/<lease hex>`; its create revision (a Range of the key
// gives it) is the holder's fencing token, which writes may carry (fence.h). Unlock deletes
// the key. Campaign answers with the leader key {name, key, rev = create revision, lease};
// Proclaim and Resign act only while that key still has that create revision ("election: not
// leader" otherwise); Leader and Observe name the key under `name/` created first.
#pragma once

#include <memory>

namespace grpc {
class Service;
}

namespace synod::server {

class ServingContext;

// The context must outlive the services; each joins its waiting calls when destroyed, which
// the server does after it has flagged the context stopping.
std::unique_ptr<grpc::Service> NewLockService(ServingContext* context);
std::unique_ptr<grpc::Service> NewElectionService(ServingContext* context);

}  // namespace synod::server
