// The etcd v3 Maintenance service: Status, Hash, HashKV, Defragment, Alarm, MoveLeader and
// Snapshot (a backup stream, backup.h). Downgrade answers Unimplemented.
//
// Alarms are Raft commands (command.proto), so every member holds the same list; NOSPACE is
// raised by a member whose store is over --quota-backend-bytes when a write arrives
// (RaiseNoSpaceAlarm), and while it is active every member refuses puts and txns that put,
// while deletes and compactions pass, so the operator frees space (delete, compact, defrag)
// and disarms without downtime.
#pragma once

#include <memory>

namespace grpc {
class Service;
}

namespace synod::server {

class ServingContext;

std::unique_ptr<grpc::Service> NewMaintenanceService(ServingContext* context);

// Proposes NOSPACE for this member (once applied, every member refuses writes that put).
// Any thread; never blocks.
void RaiseNoSpaceAlarm(ServingContext* context);

}  // namespace synod::server
