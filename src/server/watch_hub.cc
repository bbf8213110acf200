#include "server/watch_hub.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace synod::server {

using EventPtr = std::shared_ptr<const mvcc::Event>;

struct WatchHub::Watcher {
  int64_t id = 0;
  uint64_t serial = 0;
  WatchStream* stream = nullptr;
  std::string key;
  std::string range_end;  // "": the key alone; "\0": every key >= key
  bool no_put = false;
  bool no_delete = false;
  bool prev_kv = false;
  bool fragment = false;
  bool progress_notify = false;
  // The first revision not yet given to the watcher. For a synced watcher it may lag behind
  // the hub (revisions without matching events do not move it): its position is then
  // revision_ + 1.
  int64_t next_rev = 0;
  bool synced = false;
  bool reading = false;        // a catch-up read for it is in flight (outside the lock)
  bool sent_recently = false;  // got events since the last NotifyProgress

  bool Matches(const std::string& k) const {
    if (range_end.empty()) return k == key;
    if (k < key) return false;
    return (range_end.size() == 1 && range_end[0] == '\0') || k < range_end;
  }
  bool Keeps(const mvcc::Event& e) const {
    return e.type == mvcc::EventType::kPut ? !no_put : !no_delete;
  }
};

class WatchStream {
 public:
  uint64_t serial = 0;
  std::function<void()> wake;
  std::map<int64_t, std::unique_ptr<WatchHub::Watcher>> watchers;  // by watch id
  int64_t next_id = 0;
  std::deque<WatchEvents> queue;
  size_t queue_bytes = 0;
  size_t unsynced = 0;
  bool wake_pending = false;
  bool closed = false;
};

// A watcher picked for a catch-up read, with what it needs read outside the lock.
struct WatchHub::Candidate {
  uint64_t serial = 0;
  mvcc::EventsRequest request;
};

namespace {

size_t EventBytes(const mvcc::Event& e, bool prev_kv) {
  size_t n = 64 + e.kv.key.size() + e.kv.value.size();
  if (prev_kv && e.prev_kv) n += e.prev_kv->key.size() + e.prev_kv->value.size();
  return n;
}

size_t ResponseBytes(const WatchEvents& r) {
  size_t n = 64 + r.cancel_reason.size();
  for (const EventPtr& e : r.events) n += EventBytes(*e, r.prev_kv);
  return n;
}

}  // namespace

WatchHub::WatchHub(WatchHubOptions options, WatchHistory history)
    : opts_(std::move(options)), history_(std::move(history)) {
  SYNOD_ASSERT(opts_.stream_responses_max > 0 && opts_.sync_events_max > 0, "zero limits");
}

WatchHub::~WatchHub() {
  Close();
}

// ---- the apply thread ------------------------------------------------------------------------

void WatchHub::OnApply(int64_t revision, const std::vector<mvcc::Event>& events) {
  std::unique_lock<std::mutex> lock(mu_);
  SYNOD_ASSERT(revision > revision_, "applied revisions only grow");
  revision_ = revision;
  if (watchers_.empty()) return;
  // Which synced watchers each event reaches, by watcher serial so the order is stable.
  std::map<uint64_t, std::vector<size_t>> hits;
  for (size_t i = 0; i < events.size(); ++i) {
    const mvcc::Event& e = events[i];
    SYNOD_ASSERT(e.kv.mod_revision == revision, "an entry's events share its revision");
    auto [lo, hi] = synced_keys_.equal_range(e.kv.key);
    for (auto it = lo; it != hi; ++it) {
      if (it->second->Keeps(e)) hits[it->second->serial].push_back(i);
    }
    for (const auto& [serial, w] : synced_ranges_) {
      if (w->Matches(e.kv.key) && w->Keeps(e)) hits[serial].push_back(i);
    }
  }
  if (hits.empty()) return;
  // One copy of the entry's events, shared by every response that carries some of them.
  auto batch = std::make_shared<const std::vector<mvcc::Event>>(events);
  for (auto& [serial, indexes] : hits) {
    Watcher& w = *watchers_.at(serial);
    if (w.next_rev > revision) continue;  // starts later, or a catch-up read got here first
    std::vector<EventPtr> evs;
    evs.reserve(indexes.size());
    for (size_t i : indexes) evs.emplace_back(batch, &(*batch)[i]);
    if (!HasRoom(*w.stream)) {
      MakeUnsynced(w, revision);
      continue;
    }
    Deliver(w, revision, std::move(evs));
  }
  const bool wake = !wake_list_.empty() || !unsynced_.empty();
  if (wake) work_ = true;
  lock.unlock();
  if (wake) work_cv_.notify_one();
}

void WatchHub::OnReset(int64_t revision) {
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t before = revision_;
  revision_ = revision;
  if (before == 0) return;  // the first open: nobody watches yet
  // The revisions between were not announced: every synced watcher reads them from the store.
  std::vector<Watcher*> synced;
  for (const auto& [serial, w] : watchers_) {
    if (w->synced) synced.push_back(w);
  }
  for (Watcher* w : synced) MakeUnsynced(*w, before + 1);
  work_ = true;
  lock.unlock();
  work_cv_.notify_one();
}

// ---- streams ---------------------------------------------------------------------------------

std::shared_ptr<WatchStream> WatchHub::OpenStream(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || streams_.size() >= opts_.streams_max) return nullptr;
  auto s = std::make_shared<WatchStream>();
  s->serial = next_serial_++;
  s->wake = std::move(wake);
  streams_[s->serial] = s;
  return s;
}

void WatchHub::CloseStream(const std::shared_ptr<WatchStream>& stream) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!stream->watchers.empty()) Remove(*stream->watchers.begin()->second);
  stream->closed = true;
  stream->queue.clear();
  stream->queue_bytes = 0;
  streams_.erase(stream->serial);
  std::erase(wake_list_, stream);
}

void WatchHub::Create(WatchStream& stream, const WatchCreate& r) {
  std::unique_lock<std::mutex> lock(mu_);
  WatchEvents out;
  out.created = true;
  out.revision = revision_;
  out.watch_id = kNoWatchId;
  std::string key = r.key.empty() ? std::string(1, '\0') : r.key;  // etcd's smallest key
  const bool ranged = !r.range_end.empty() && r.range_end != std::string(1, '\0');
  if (ranged && key >= r.range_end) {
    out.canceled = true;
    out.cancel_reason = "mvcc: watcher range is empty";
  } else if (r.watch_id != 0 && stream.watchers.contains(r.watch_id)) {
    out.canceled = true;
    out.cancel_reason = "mvcc: duplicate watch ID provided on the WatchStream";
  } else if (stream.watchers.size() >= opts_.watchers_per_stream_max ||
             watchers_.size() >= opts_.watchers_max) {
    out.canceled = true;
    out.cancel_reason = "synod: too many watchers (watchers_per_stream_max " +
                        std::to_string(opts_.watchers_per_stream_max) + ", watchers_max " +
                        std::to_string(opts_.watchers_max) + ")";
  } else {
    auto w = std::make_unique<Watcher>();
    w->id = r.watch_id;
    if (w->id == 0) {
      while (stream.watchers.contains(stream.next_id)) ++stream.next_id;
      w->id = stream.next_id++;
    }
    w->serial = next_serial_++;
    w->stream = &stream;
    w->key = std::move(key);
    w->range_end = r.range_end;
    w->no_put = r.no_put;
    w->no_delete = r.no_delete;
    w->prev_kv = r.prev_kv;
    w->fragment = r.fragment;
    w->progress_notify = r.progress_notify;
    w->next_rev = r.start_revision == 0 ? revision_ + 1 : std::max<int64_t>(r.start_revision, 1);
    out.watch_id = w->id;
    Watcher& ref = *w;
    watchers_[w->serial] = w.get();
    stream.watchers[w->id] = std::move(w);
    // `created` goes out before any event of the watcher: both are queued under this lock.
    Enqueue(stream, std::move(out));
    if (ref.next_rev > revision_) {
      MakeSynced(ref);
    } else {
      ref.synced = true;  // MakeUnsynced expects a synced watcher
      MakeUnsynced(ref, ref.next_rev);
      work_ = true;
      lock.unlock();
      work_cv_.notify_one();
    }
    return;
  }
  Enqueue(stream, std::move(out));
}

void WatchHub::Cancel(WatchStream& stream, int64_t watch_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stream.watchers.find(watch_id);
  if (it == stream.watchers.end()) return;
  Remove(*it->second);
  WatchEvents out;
  out.watch_id = watch_id;
  out.canceled = true;
  out.revision = revision_;
  Enqueue(stream, std::move(out));
}

void WatchHub::RequestProgress(WatchStream& stream) {
  std::lock_guard<std::mutex> lock(mu_);
  // Responses already queued come first, so every synced watcher of the stream will have seen
  // revision_; an unsynced one only what precedes its position.
  int64_t reached = revision_;
  for (const auto& [id, w] : stream.watchers) {
    if (!w->synced) reached = std::min(reached, w->next_rev - 1);
  }
  WatchEvents out;
  out.watch_id = kNoWatchId;
  out.revision = reached;
  Enqueue(stream, std::move(out));
}

std::optional<WatchEvents> WatchHub::Pop(WatchStream& stream) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stream.queue.empty()) return std::nullopt;
  WatchEvents r = std::move(stream.queue.front());
  stream.queue.pop_front();
  const size_t bytes = ResponseBytes(r);
  SYNOD_ASSERT(stream.queue_bytes >= bytes, "queue bytes match the queued responses");
  stream.queue_bytes -= bytes;
  // Room again for watchers of this stream that fell behind.
  const bool wake = stream.unsynced > 0 && HasRoom(stream);
  if (wake) work_ = true;
  lock.unlock();
  if (wake) work_cv_.notify_one();
  return r;
}

bool WatchHub::Backlogged(const WatchStream& stream) const {
  std::lock_guard<std::mutex> lock(mu_);
  return !HasRoom(stream);
}

bool WatchHub::Finished(const WatchStream& stream) const {
  std::lock_guard<std::mutex> lock(mu_);
  return (closed_ || stream.closed) && stream.queue.empty();
}

// ---- the worker ------------------------------------------------------------------------------

bool WatchHub::Sync() {
  std::vector<Candidate> picked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Each read may queue one response: a stream gets no more reads than it has free places,
    // so catch-up never takes a queue much past its limits.
    std::map<uint64_t, size_t> picks;  // by stream serial
    for (const auto& [serial, w] : unsynced_) {
      if (w->reading || !HasRoom(*w->stream)) continue;
      size_t& n = picks[w->stream->serial];
      if (n >= opts_.stream_responses_max - w->stream->queue.size()) continue;
      ++n;
      w->reading = true;
      Candidate c;
      c.serial = serial;
      c.request.start_revision = w->next_rev;
      c.request.key = w->key;
      c.request.range_end = w->range_end;
      c.request.prev_kv = w->prev_kv;
      c.request.events_max = opts_.sync_events_max;
      picked.push_back(std::move(c));
    }
  }
  if (picked.empty()) return false;
  // Reads run outside the lock: OnApply never waits for the store. What they find is checked
  // against each watcher's position when it comes back.
  std::vector<mvcc::Outcome<mvcc::EventsResult>> reads;
  reads.reserve(picked.size());
  for (const Candidate& c : picked) reads.push_back(history_.read_events(c.request));
  const int64_t compacted = history_.compact_revision();
  bool more = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < picked.size(); ++i) FinishRead(picked[i], reads[i], compacted);
    for (const auto& [serial, w] : unsynced_) {
      if (!w->reading && HasRoom(*w->stream)) more = true;
    }
  }
  Wake();
  return more;
}

void WatchHub::FinishRead(const Candidate& c, mvcc::Outcome<mvcc::EventsResult>& read,
                          int64_t compacted) {
  auto found = watchers_.find(c.serial);
  if (found == watchers_.end()) return;  // cancelled meanwhile
  Watcher& w = *found->second;
  w.reading = false;
  SYNOD_ASSERT(!w.synced && w.next_rev == c.request.start_revision,
               "only the worker moves an unsynced watcher");
  if (!read.ok()) {
    WatchEvents out;
    out.watch_id = w.id;
    out.canceled = true;
    out.revision = revision_;
    if (read.error().code() == mvcc::Errc::kCompacted) {
      out.compact_revision = std::max<int64_t>(compacted, 1);
    } else {
      out.cancel_reason = read.error().ToString();
    }
    WatchStream& stream = *w.stream;
    Remove(w);
    Enqueue(stream, std::move(out));
    return;
  }
  mvcc::EventsResult& r = read.value();
  SYNOD_ASSERT(r.next_revision >= w.next_rev, "history reads move forward");
  std::vector<EventPtr> evs;
  auto batch = std::make_shared<const std::vector<mvcc::Event>>(std::move(r.events));
  for (const mvcc::Event& e : *batch) {
    if (w.Keeps(e)) evs.emplace_back(batch, &e);
  }
  w.next_rev = r.next_revision;
  // Responses of about catchup_response_bytes_max, cut between revisions: a client with gRPC's
  // default 4 MiB receive limit can take them, and a revision never spans two.
  std::vector<EventPtr> chunk;
  size_t bytes = 0;
  for (EventPtr& e : evs) {
    const int64_t rev = e->kv.mod_revision;
    if (!chunk.empty() && rev != chunk.back()->kv.mod_revision &&
        bytes >= opts_.catchup_response_bytes_max) {
      Deliver(w, rev - 1, std::move(chunk));
      chunk.clear();
      bytes = 0;
    }
    bytes += EventBytes(*e, w.prev_kv);
    chunk.push_back(std::move(e));
  }
  if (!chunk.empty()) Deliver(w, r.next_revision - 1, std::move(chunk));
  // Caught up with what the hub has announced (a read may even see an entry whose OnApply has
  // not come yet: next_rev then makes OnApply skip it).
  if (w.next_rev > revision_) MakeSynced(w);
}

void WatchHub::Wake() {
  std::vector<std::shared_ptr<WatchStream>> list;
  {
    std::lock_guard<std::mutex> lock(mu_);
    list.swap(wake_list_);
    for (const auto& s : list) s->wake_pending = false;
  }
  for (const auto& s : list) {
    if (s->wake) s->wake();
  }
}

void WatchHub::NotifyProgress() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [serial, w] : watchers_) {
      if (!w->progress_notify) continue;
      if (w->synced && !w->sent_recently && HasRoom(*w->stream)) {
        WatchEvents out;
        out.watch_id = w->id;
        out.revision = revision_;
        Enqueue(*w->stream, std::move(out));
      }
      w->sent_recently = false;
    }
  }
  Wake();
}

void WatchHub::StartWorker() {
  std::lock_guard<std::mutex> lock(mu_);
  SYNOD_ASSERT(!worker_.joinable(), "one worker");
  worker_ = std::thread([this] { WorkerLoop(); });
}

void WatchHub::WorkerLoop() {
  auto next_progress = std::chrono::steady_clock::now() + opts_.progress_interval;
  bool more = false;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!more) {
        work_cv_.wait_for(lock, opts_.sync_interval, [this] { return work_ || worker_stop_; });
      }
      if (worker_stop_) return;
      work_ = false;
    }
    Wake();
    more = Sync();
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_progress) {
      NotifyProgress();
      next_progress = now + opts_.progress_interval;
    }
  }
}

void WatchHub::Close() {
  std::vector<std::shared_ptr<WatchStream>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    worker_stop_ = true;
    for (const auto& [serial, s] : streams_) all.push_back(s);
  }
  work_cv_.notify_all();
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
  // Streams with an empty queue learn here that they are finished.
  for (const auto& s : all) {
    if (s->wake) s->wake();
  }
}

size_t WatchHub::watchers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return watchers_.size();
}

size_t WatchHub::unsynced_watchers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unsynced_.size();
}

int64_t WatchHub::revision() const {
  std::lock_guard<std::mutex> lock(mu_);
  return revision_;
}

// ---- helpers (under mu_) ---------------------------------------------------------------------

bool WatchHub::HasRoom(const WatchStream& s) const {
  return s.queue.size() < opts_.stream_responses_max && s.queue_bytes < opts_.stream_bytes_max;
}

void WatchHub::Enqueue(WatchStream& s, WatchEvents response) {
  if (s.closed) return;
  s.queue_bytes += ResponseBytes(response);
  s.queue.push_back(std::move(response));
  if (!s.wake_pending) {
    s.wake_pending = true;
    wake_list_.push_back(streams_.at(s.serial));
    work_ = true;
  }
}

void WatchHub::Deliver(Watcher& w, int64_t revision, std::vector<EventPtr> events) {
  SYNOD_ASSERT(!events.empty(), "responses with events only");
  SYNOD_ASSERT(events.front()->kv.mod_revision >= 1, "events carry their revision");
  WatchEvents out;
  out.watch_id = w.id;
  out.revision = revision;
  out.prev_kv = w.prev_kv;
  out.fragment = w.fragment;
  out.events = std::move(events);
  w.next_rev = std::max(w.next_rev, out.events.back()->kv.mod_revision + 1);
  w.sent_recently = true;
  Enqueue(*w.stream, std::move(out));
}

void WatchHub::MakeUnsynced(Watcher& w, int64_t position) {
  SYNOD_ASSERT(w.synced, "only a synced watcher falls behind");
  if (w.range_end.empty()) {
    auto [lo, hi] = synced_keys_.equal_range(w.key);
    for (auto it = lo; it != hi; ++it) {
      if (it->second == &w) {
        synced_keys_.erase(it);
        break;
      }
    }
  } else {
    synced_ranges_.erase(w.serial);
  }
  w.synced = false;
  w.next_rev = std::max(w.next_rev, position);
  unsynced_[w.serial] = &w;
  ++w.stream->unsynced;
}

void WatchHub::MakeSynced(Watcher& w) {
  if (unsynced_.erase(w.serial) > 0) {
    SYNOD_ASSERT(w.stream->unsynced > 0, "unsynced count");
    --w.stream->unsynced;
  }
  w.synced = true;
  if (w.range_end.empty()) {
    synced_keys_.emplace(w.key, &w);
  } else {
    synced_ranges_[w.serial] = &w;
  }
}

void WatchHub::Remove(Watcher& w) {
  if (w.synced) {
    MakeUnsynced(w, 0);  // out of the synced indexes
  }
  unsynced_.erase(w.serial);
  --w.stream->unsynced;
  watchers_.erase(w.serial);
  WatchStream& s = *w.stream;
  s.watchers.erase(w.id);  // destroys w
}

}  // namespace synod::server
