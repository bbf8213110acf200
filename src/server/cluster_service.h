// The etcd v3 Cluster service, as far as synod serves it now: MemberList, from the
// configuration every member was started with (membership does not change yet). A member
// knows only its own client URLs; the others' are listed empty until members publish them
// through the log. MemberAdd/Remove/Update/Promote answer Unimplemented.
#pragma once

#include <memory>
#include <vector>

#include "server/config.h"

namespace grpc {
class Service;
}

namespace synod::server {

class ServingContext;

// `members` as configured; `self_client_urls` (this member's --advertise-client-urls) are
// listed for `self_id`.
std::unique_ptr<grpc::Service> NewClusterService(ServingContext* context,
                                                 std::vector<ClusterMember> members,
                                                 uint64_t self_id,
                                                 std::vector<std::string> self_client_urls);

}  // namespace synod::server
