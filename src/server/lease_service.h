// The etcd v3 Lease service (LeaseGrant, LeaseRevoke, LeaseKeepAlive, LeaseTimeToLive,
// LeaseLeases) on gRPC's callback API, in the KV service's style (serving_context.h).
//
// Grants, revokes and keep-alives go through the Raft log; a keep-alive is answered once it
// is applied on this member, with the lease's granted TTL (0 when the lease no longer exists),
// so the lease's expiry has been refreshed on every member, the leader included, by then.
// TimeToLive and Leases read after a ReadIndex barrier: the store for which leases exist and
// their keys, this member's lessor for the time left.
//
// Lease ids: the client's, or one this member generates (LeaseIdGenerator); the TTL is raised
// to the lessor's minimum and refused above etcd's maximum before anything is proposed.
#pragma once

#include <memory>

namespace grpc {
class Service;
}

namespace synod::server {

class ServingContext;
class Lessor;
class LeaseIdGenerator;

// All three must outlive the service.
std::unique_ptr<grpc::Service> NewLeaseService(ServingContext* context, Lessor* lessor,
                                               LeaseIdGenerator* ids);

}  // namespace synod::server
