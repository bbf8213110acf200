// The etcd v3 Maintenance service, as far as synod serves it now: Status (what
// `etcdctl endpoint status` shows). The other calls answer Unimplemented.
#pragma once

#include <memory>

namespace grpc {
class Service;
}

namespace synod::server {

class ServingContext;

std::unique_ptr<grpc::Service> NewMaintenanceService(ServingContext* context);

}  // namespace synod::server
