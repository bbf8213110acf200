// Maintenance.Snapshot: a store checkpoint streamed as a backup (backup.h) in chunks of
// kBackupChunkBytes; the last message carries the SHA-256 of the image (remaining_bytes 0), as
// etcd's carries the SHA-256 of its database. `etcdctl snapshot save` writes the stream to a
// file as it comes. The checkpoint lives under KvMachine::backups_dir() while it streams.
// Included only by maintenance_service.cc, which includes gRPC anyway.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>

#include "etcdserverpb/rpc.pb.h"

namespace synod::server {

class ServingContext;

inline constexpr size_t kBackupChunkBytes = 256 * 1024;

// Admits the call (or refuses it) and returns the reactor gRPC drives; it deletes itself.
grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* NewBackupStream(
    ServingContext* ctx, grpc::CallbackServerContext* call);

}  // namespace synod::server
