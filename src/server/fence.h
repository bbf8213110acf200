// Fencing tokens for locks (a synod extension; docs/server.md, "Locks and fencing").
//
// A lock `name` is held by the key under `name/` with the lowest create revision (etcd's lock
// and election recipes, lock_service.h); that revision is the holder's fencing token. A put or
// txn may carry fences, (name, token) pairs, in the gRPC metadata `synod-fence: <name>=<token>`
// (one entry per lock; etcd clients never send it and etcd ignores it). The KV service copies
// them into the Raft command, and every member checks them when it applies the entry, against
// its store at that point of the log: the write is refused (kStaleFence, nothing changes) if
// a lock it names has a holder whose token is newer than the writer's. So a holder that was
// paused past its lease cannot overwrite what the next holder wrote.
//
// Only the current holder is compared: once the newer holder has released the lock and no
// one holds it, an old token passes again (the store does not keep a per-lock high-water mark).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "mvcc/error.h"
#include "mvcc/store.h"

namespace synod::serverpb {
class Command;
}

namespace synod::server {

inline constexpr const char* kFenceMetadataKey = "synod-fence";
inline constexpr size_t kFencesMax = 8;  // per request: each costs one range read at apply

// Parses one `synod-fence` value, "<name>=<token>" (split at the last '=', the token a decimal
// integer > 0), into `command`'s fences. kInvalidArgument when malformed or over kFencesMax.
Status AddFence(std::string_view value, serverpb::Command* command);

// The create revision of the holder of lock `name` (its key under `name/` created first), or
// nullopt when nobody holds it.
mvcc::Outcome<std::optional<int64_t>> LockHolder(const mvcc::Store& store, const std::string& name);

// kStaleFence if one of `command`'s fences names a lock held with a newer token; the store's
// error if a read fails; nullopt: the command may apply. Deterministic: reads the store only.
std::optional<mvcc::Error> CheckFences(const mvcc::Store& store, const serverpb::Command& command);

}  // namespace synod::server
