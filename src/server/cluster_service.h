// The etcd v3 Cluster service: MemberList, MemberAdd (voter or learner), MemberRemove,
// MemberUpdate and MemberPromote, over the replicated member list (member_registry.h).
//
// Add, remove and promote are Raft membership changes, proposed on the leader (a follower
// passes the request on to the leader's published client URL, as etcd does) after etcd's checks
// (member_checks.h); the answer comes once the change is applied on this member. Update is an
// ordinary command and works through any member. A new member's ID is derived from its peer
// URLs and the cluster token (member_id.h), so the member started with
// --initial-cluster-state existing knows it without asking.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace grpc {
class Service;
}

namespace synod::server {

class ServingContext;
class MemberRegistry;

struct ClusterServiceOptions {
  std::string cluster_token;                  // --initial-cluster-token
  std::vector<std::string> self_client_urls;  // listed for this member until it publishes
};

std::unique_ptr<grpc::Service> NewClusterService(ServingContext* context, MemberRegistry* members,
                                                 ClusterServiceOptions options);

}  // namespace synod::server
