// WatchHub: the etcd v3 watchers of one member, fed from its own applied state. Free of gRPC
// headers; watch_service.cc is the gRPC edge and watch_convert.h the wire conversion.
//
// Data flow. KvMachine hands the hub each applied entry's events (OnApply, on the node's loop
// thread). A *synced* watcher, one that has been given every revision up to the hub's, gets the
// matching events of the entry queued on its stream at once. Each stream's queue is bounded
// (`stream_responses_max`, `stream_bytes_max`); a watcher whose stream is full is not waited
// for: it becomes *unsynced* and remembers the first revision it has not been given. The hub's
// worker (Sync) later reads that history from the store (mvcc::Store::ReadEvents) when the
// stream has room again, until the watcher has caught up and is synced again. A watcher that
// starts in the past starts unsynced. When the history it needs has been compacted, the watcher
// gets a response with `compact_revision` and is cancelled, as in etcd.
//
// Guarantees per watcher: `created` first; then events in revision order, none twice and none
// skipped, from its start revision on; `canceled` last. Each watcher's position (next_rev) only
// moves forward, under the hub's lock, and every path that queues events checks it first.
//
// Memory is bounded: a stream's queue holds at most its limits plus one response (a single
// revision is never split, so one large revision may pass the byte limit); unsynced watchers
// hold nothing; the number of streams and watchers is capped. Event values are shared between
// the watchers of one entry, not copied per watcher.
//
// Threads: OnApply/OnReset on the loop thread (short: no I/O, one lock); the stream calls on
// gRPC threads; Sync, Wake and NotifyProgress on the hub's worker (StartWorker), or called
// directly by tests, which then need no thread. Every member function is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mvcc/error.h"
#include "mvcc/types.h"
#include "server/apply_observer.h"

namespace synod::server {

struct WatchHubOptions {
  size_t streams_max = 10000;
  size_t watchers_max = 100000;  // on this member, all streams together
  size_t watchers_per_stream_max = 10000;
  // A stream's queue; beyond either, synced watchers fall behind (unsynced) rather than grow it,
  // and the stream stops reading requests until it drains.
  size_t stream_responses_max = 128;
  size_t stream_bytes_max = size_t{8} << 20;
  // Events one catch-up read gathers for one watcher (never splitting a revision), and the
  // size at which its events are cut into several responses (between revisions).
  size_t sync_events_max = 256;
  size_t catchup_response_bytes_max = size_t{1} << 20;
  // Worker: how often unsynced watchers are retried without a wake-up, and how often watchers
  // that asked for progress_notify hear the current revision (etcd: 10 minutes).
  std::chrono::milliseconds sync_interval{100};
  std::chrono::milliseconds progress_interval{10 * 60 * 1000};
};

// Where catching-up watchers read history: the store (through KvMachine::Read in the server).
struct WatchHistory {
  std::function<mvcc::Outcome<mvcc::EventsResult>(const mvcc::EventsRequest&)> read_events;
  std::function<int64_t()> compact_revision;
};

// A WatchCreateRequest, as on the wire.
struct WatchCreate {
  std::string key;
  std::string range_end;       // "": the key alone; "\0": every key >= key; else [key, range_end)
  int64_t start_revision = 0;  // 0: the next revision
  bool progress_notify = false;
  bool no_put = false;     // filter NOPUT
  bool no_delete = false;  // filter NODELETE
  bool prev_kv = false;
  int64_t watch_id = 0;  // 0: the hub picks the lowest free id of the stream (from 0, as etcd)
  bool fragment = false;
};

// The watch id of responses that belong to no watcher (a failed create, a progress answer).
inline constexpr int64_t kNoWatchId = -1;

// One response on a stream, before conversion to the wire.
struct WatchEvents {
  int64_t watch_id = 0;
  int64_t revision = 0;  // the header's: everything the watcher asked for up to here was sent
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;
  std::string cancel_reason;
  bool prev_kv = false;   // send each event's prev_kv
  bool fragment = false;  // the watcher accepts a revision split over several responses
  std::vector<std::shared_ptr<const mvcc::Event>> events;
};

class WatchStream;

class WatchHub final : public ApplyObserver {
 public:
  WatchHub(WatchHubOptions options, WatchHistory history);
  ~WatchHub() override;  // stops the worker
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // ---- the apply thread ------------------------------------------------------------------
  void OnApply(int64_t revision, const std::vector<mvcc::Event>& events) override;
  void OnReset(int64_t revision) override;

  // ---- streams (gRPC threads) ------------------------------------------------------------
  // A new stream, or nullptr when streams_max are open or the hub is closed. `wake` is called
  // (from the worker, never under the hub's lock) when responses arrive on an empty queue.
  std::shared_ptr<WatchStream> OpenStream(std::function<void()> wake);
  // Drops the stream's watchers and its queue. A Wake that copied the stream before may still
  // call `wake` once after this returns: it must stay safe to call (the service's holds a weak
  // reference).
  void CloseStream(const std::shared_ptr<WatchStream>& stream);
  // Queues `created` (or, with watch id -1, `created` + `canceled` and a reason).
  void Create(WatchStream& stream, const WatchCreate& request);
  // Queues `canceled` if the watcher exists; nothing otherwise (as etcd).
  void Cancel(WatchStream& stream, int64_t watch_id);
  // Queues a response with watch id -1 whose revision every watcher of the stream has reached.
  void RequestProgress(WatchStream& stream);
  // The next response to send, if any.
  std::optional<WatchEvents> Pop(WatchStream& stream);
  // The queue is at its limits: the stream should read no more requests until it drains.
  bool Backlogged(const WatchStream& stream) const;
  // The hub is closed and the stream's queue is empty: the stream should end.
  bool Finished(const WatchStream& stream) const;

  // ---- the worker (or tests) ---------------------------------------------------------------
  // One catch-up pass: every unsynced watcher whose stream has room reads its next batch of
  // history. True if some could continue right away.
  bool Sync();
  // Calls the wake callbacks of the streams that got responses on an empty queue.
  void Wake();
  // A progress response (revision, no events) to every synced progress_notify watcher that got
  // no events since the last call.
  void NotifyProgress();
  // Starts a thread that runs Sync, Wake and NotifyProgress as needed.
  void StartWorker();
  // Ends every stream (Finished becomes true once their queues drain) and stops the worker.
  void Close();

  // ---- introspection (tests, metrics) ------------------------------------------------------
  size_t watchers() const;
  size_t unsynced_watchers() const;
  int64_t revision() const;

 private:
  friend class WatchStream;
  struct Watcher;
  struct Candidate;

  void Enqueue(WatchStream& stream, WatchEvents response);  // REQUIRES: mu_
  bool HasRoom(const WatchStream& stream) const;            // REQUIRES: mu_
  void MakeUnsynced(Watcher& w, int64_t position);          // REQUIRES: mu_
  void MakeSynced(Watcher& w);                              // REQUIRES: mu_
  void Remove(Watcher& w);                                  // REQUIRES: mu_
  void Deliver(Watcher& w, int64_t revision,
               std::vector<std::shared_ptr<const mvcc::Event>> events);  // REQUIRES: mu_
  void FinishRead(const Candidate& c, mvcc::Outcome<mvcc::EventsResult>& read,
                  int64_t compacted);  // REQUIRES: mu_
  void WorkerLoop();

  const WatchHubOptions opts_;
  const WatchHistory history_;

  mutable std::mutex mu_;  // guards everything below but the worker's thread
  std::condition_variable work_cv_;
  int64_t revision_ = 0;  // the last revision announced by OnApply/OnReset
  bool closed_ = false;
  bool work_ = false;  // the worker has something to do before its next interval
  uint64_t next_serial_ = 1;
  std::map<uint64_t, std::shared_ptr<WatchStream>> streams_;  // by serial
  std::map<uint64_t, Watcher*> watchers_;                     // by serial
  // Synced watchers, indexed for OnApply: single keys by key, ranges scanned.
  std::multimap<std::string, Watcher*> synced_keys_;
  std::map<uint64_t, Watcher*> synced_ranges_;
  std::map<uint64_t, Watcher*> unsynced_;
  std::vector<std::shared_ptr<WatchStream>> wake_list_;

  std::thread worker_;
  bool worker_stop_ = false;  // guarded by mu_
};

}  // namespace synod::server
