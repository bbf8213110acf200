// What the Lock and Election services (lock_service.h) build on: etcd's concurrency recipes
// run inside the server, on the KV machinery. Free of gRPC headers.
//
// A lock or an election `name` is the set of keys under `name/`; a contender owns the key
// `name/<lease id in hex>`, created with its lease attached. The contender whose key has the
// lowest create revision holds the lock (leads); the others wait until every key created
// before theirs is gone (released, or its lease expired). That create revision is the
// holder's fencing token (fence.h).
//
// Threads: waiting for a lock may take as long as someone holds it, so every call runs on a
// thread of its own (Spawn), never on gRPC's or the executor's, bounded by `waiters_max`.
// Those threads block on the node (ProposeWait, BarrierWait) and poll the member's own store
// every `poll_interval` while they wait: a local read is safe for waiting, since the store
// only moves forward through the log and already holds the caller's own key. Each stops
// waiting when its client goes away or the server stops; the destructor joins them.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "api/etcd_errors.h"
#include "mvcc/types.h"

namespace etcdserverpb {
class TxnRequest;
}

namespace synod::server {

class ServingContext;

struct RecipeLimits {
  size_t waiters_max = 1024;  // calls in progress (each holds a thread)
  std::chrono::milliseconds poll_interval{20};
};

// What a contender holds: its key and that key's create revision.
struct Contender {
  mvcc::KeyValue kv;
  bool existed = false;  // the key was there before (same lease): its value was not written
  int64_t revision = 0;  // the store's revision after the create (the response header's)
};

class Recipes {
 public:
  explicit Recipes(ServingContext* ctx, RecipeLimits limits = {});
  ~Recipes();
  Recipes(const Recipes&) = delete;
  Recipes& operator=(const Recipes&) = delete;

  // Runs `task` on a new thread. False (nothing runs) when waiters_max tasks are running.
  bool Spawn(std::function<void()> task);

  // The rest block: only on spawned threads. Errors are the client's answer.
  // Proposes `txn` and waits for it to apply here; `succeeded` and `revision` from its result.
  // A non-empty `fence_lock` has every member keep that lock's fencing high-water mark from
  // this entry on (fence.h).
  api::WireStatus Txn(const etcdserverpb::TxnRequest& txn, bool* succeeded, int64_t* revision,
                      const std::string& fence_lock = "");
  // Waits for a ReadIndex barrier: what the local store holds after it is linearizable.
  api::WireStatus Barrier();
  // From the local store: the key, or the first key created under `prefix` (with a create
  // revision <= max_create_revision when that is > 0).
  std::optional<mvcc::KeyValue> Get(const std::string& key) const;
  std::optional<mvcc::KeyValue> First(const std::string& prefix,
                                      int64_t max_create_revision = 0) const;
  int64_t revision() const;

  // The recipe: creates `key` with `lease` and `value` unless it exists, then waits until no
  // key under `prefix` was created before it. Ends early with kCanceled when `cancelled()`
  // turns true (the key is then deleted, as etcd's client does), with "server stopped" when
  // the server stops, and fails if the key disappears meanwhile (its lease expired). With
  // `proclaim`, a key that existed with another value gets `value` first (etcd's Campaign).
  api::WireStatus Acquire(const std::string& prefix, const std::string& key, int64_t lease,
                          const std::string& value, bool proclaim,
                          const std::function<bool()>& cancelled, Contender* out);
  // Puts `value` with `lease` into `key` if its create revision is `create_revision`;
  // `*held` false when it is not (the key was deleted or recreated).
  api::WireStatus PutIfHeld(const std::string& key, int64_t create_revision, int64_t lease,
                            const std::string& value, bool* held, int64_t* revision);
  // Deletes `key` (if its create revision is `create_revision`, when that is > 0).
  api::WireStatus Delete(const std::string& key, int64_t create_revision, int64_t* revision);

  bool stopping() const;
  void Pause() const { std::this_thread::sleep_for(limits_.poll_interval); }

 private:
  struct Task {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  void ReapLocked();

  ServingContext* const ctx_;
  const RecipeLimits limits_;
  std::mutex mu_;
  std::list<Task> tasks_;
};

// The key a contender with `lease` owns under `prefix` (etcd's spelling: lowercase hex).
std::string ContenderKey(const std::string& prefix, int64_t lease);

}  // namespace synod::server
