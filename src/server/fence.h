// Fencing tokens for locks (a synod extension; docs/server.md, "Locks and fencing").
//
// A lock `name` is held by the key under `name/` with the lowest create revision (etcd's lock
// and election recipes, lock_service.h); that revision is the holder's fencing token. A put or
// txn may carry fences, (name, token) pairs, in the gRPC metadata `synod-fence: <name>=<token>`
// (one entry per lock; etcd clients never send it and etcd ignores it). The KV service copies
// them into the Raft command, and every member checks them when it applies the entry, against
// its store at that point of the log: the write is refused (kStaleFence, nothing changes) if
// a lock it names has a holder whose token is newer than the writer's, or if the writer's token
// is below the lock's high-water mark. So a holder that was paused past its lease cannot
// overwrite what a later holder wrote, even after that holder released the lock.
//
// High-water marks: per tracked lock name, the highest token that held the lock or was
// accepted in a fence, kept in the store (mvcc::Store::FenceMarks, beside the key space, never
// visible to clients), written in the same batch as the entry that raised it, so it survives
// restarts and snapshot installs and is decided from the log alone on every member. A name is
// tracked from the first entry that names it: a fenced write (a `synod-fence` entry), or a
// contender key created through the Lock service (Command.fence_locks). From then on every
// entry that creates or deletes keys under `name/` raises the mark to the holder after the
// entry. Locks taken with a client-side recipe (etcdctl lock) are tracked from their first
// fenced write; a holder that changed before any fenced write names the lock is not seen.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// The high-water marks as KvMachine keeps them in memory: lock name -> highest token.
using FenceMarkMap = std::map<std::string, int64_t>;

// kStaleFence if one of `command`'s fences names a lock held with a newer token or whose mark
// is above the token; the store's error if a read fails; nullopt: the command may apply.
// Deterministic: reads the store and the marks (which come from the store) only.
std::optional<mvcc::Error> CheckFences(const mvcc::Store& store, const serverpb::Command& command,
                                       const FenceMarkMap& marks);

// The marks an accepted entry raises, given the events it produced and `store` still before it
// (the mvcc::FenceMarksFn of KvMachine::Apply): its fences' tokens, and for every tracked name
// (in `marks`, a fence or Command.fence_locks) whose keys the entry created or deleted, the
// token of the holder after the entry. Only marks above the current ones. A failed read of the
// store is fatal to the caller (`*error`).
std::vector<mvcc::FenceMark> RaisedFenceMarks(const mvcc::Store& store,
                                              const serverpb::Command& command,
                                              const FenceMarkMap& marks,
                                              const std::vector<mvcc::Event>& events,
                                              std::optional<mvcc::Error>* error);

}  // namespace synod::server
