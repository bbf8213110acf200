#include "watch_run.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "keys.h"
#include "runner.h"
#include "watch_value.h"

namespace synod::bench {
namespace {

using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

// Puts sent and not yet answered; the writer waits (falling behind --rate, which the report
// shows as the achieved rate) rather than queue without bound.
constexpr uint64_t kPutsInflightMax = 1000;
constexpr auto kStreamsEndTimeout = std::chrono::seconds(10);

uint64_t SteadyNs(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// A set of put sequence numbers, growing as they come.
class SeqSet {
 public:
  // True when `seq` was not in the set.
  bool Insert(uint64_t seq) {
    const size_t word = seq / 64;
    if (word >= bits_.size()) bits_.resize(word + 1 + word / 2, 0);
    const uint64_t mask = uint64_t{1} << (seq % 64);
    if (bits_[word] & mask) return false;
    bits_[word] |= mask;
    return true;
  }
  bool Contains(uint64_t seq) const {
    const size_t word = seq / 64;
    return word < bits_.size() && (bits_[word] >> (seq % 64) & 1) != 0;
  }

 private:
  std::vector<uint64_t> bits_;
};

// What the whole run shares with its streams and its writer's completions. Thread-safe.
class WatchShared {
 public:
  std::atomic<uint32_t> created{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> last_delivery_ns{0};
  std::atomic<uint64_t> puts_done{0};
  std::mutex mu;  // guards the members below
  std::condition_variable cv;
  uint32_t streams_done = 0;
  uint64_t inflight = 0;
  uint64_t puts_ok = 0;
  uint64_t puts_failed = 0;
  SeqSet acked;
  LatencyHistogram put_latency_ns;
  std::map<int, uint64_t> errors_by_code;
  std::map<int, std::string> error_examples;

  void Error(int code, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu);
    if (errors_by_code[code]++ == 0) error_examples[code] = message;
  }
};

// One Watch stream carrying `count` watchers of the prefix. Its callbacks run one at a time
// (one read outstanding), so the watchers' state needs no lock until the stream has ended.
class WatchStream final : public grpc::ClientBidiReactor<WatchRequest, WatchResponse> {
 public:
  struct Watcher {
    int64_t last_revision = 0;
    uint64_t events = 0;
    uint64_t duplicated = 0;
    uint64_t out_of_order = 0;
    bool canceled = false;
    SeqSet seen;
  };

  WatchStream(WatchShared* shared, uint32_t count, const std::string& prefix)
      : shared_(shared), count_(count) {
    auto* create = create_.mutable_create_request();
    create->set_key(prefix);
    create->set_range_end(PrefixEnd(prefix));
  }

  // Every create request goes out at once, one write after another: the server answers them
  // in order with their watch ids.
  void Start(etcdserverpb::Watch::Stub* stub) {
    stub->async()->Watch(&ctx_, this);
    StartRead(&resp_);
    StartWrite(&create_);
    StartCall();
  }
  void Cancel() { ctx_.TryCancel(); }

  void OnWriteDone(bool ok) override {
    if (ok && ++written_ < count_) StartWrite(&create_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    Handle(Clock::now());
    StartRead(&resp_);
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    status_ = status;
    // The run cancels every stream at its end; any other end is an error.
    if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
      const int code = static_cast<int>(status.error_code());
      if (shared_->errors_by_code[code]++ == 0) {
        shared_->error_examples[code] = "watch stream: " + status.error_message();
      }
    }
    ++shared_->streams_done;
    shared_->cv.notify_all();
  }

  // Read only after the stream has ended.
  const std::vector<Watcher>& watchers() const { return watchers_; }
  const LatencyHistogram& latency_ns() const { return latency_ns_; }
  const grpc::Status& status() const { return status_; }
  uint64_t stray_events() const { return stray_events_; }

 private:
  void Handle(Clock::time_point received) {
    if (resp_.created()) {
      if (resp_.canceled()) {
        shared_->Error(static_cast<int>(grpc::StatusCode::UNKNOWN),
                       "watch create refused: " + resp_.cancel_reason());
        return;
      }
      ids_[resp_.watch_id()] = watchers_.size();
      watchers_.emplace_back();
      shared_->created.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const auto it = ids_.find(resp_.watch_id());
    if (it == ids_.end()) {
      stray_events_ += static_cast<uint64_t>(resp_.events_size());
      return;
    }
    Watcher& w = watchers_[it->second];
    if (resp_.canceled()) {
      w.canceled = true;
      shared_->Error(static_cast<int>(grpc::StatusCode::CANCELLED),
                     "watch canceled by the server: " + resp_.cancel_reason());
    }
    const uint64_t received_ns = SteadyNs(received);
    uint64_t fresh = 0;
    for (const auto& event : resp_.events()) {
      const auto& kv = event.kv();
      if (kv.mod_revision() <= w.last_revision) {
        ++w.out_of_order;
      } else {
        w.last_revision = kv.mod_revision();
      }
      uint64_t seq = 0, sent_ns = 0;
      if (event.type() != mvccpb::Event::PUT || !ParseWatchValue(kv.value(), &seq, &sent_ns)) {
        ++stray_events_;
        continue;
      }
      if (!w.seen.Insert(seq)) {
        ++w.duplicated;
        continue;
      }
      ++w.events;
      ++fresh;
      latency_ns_.Record(received_ns > sent_ns ? received_ns - sent_ns : 0);
    }
    if (fresh > 0) {
      shared_->delivered.fetch_add(fresh, std::memory_order_relaxed);
      uint64_t last = shared_->last_delivery_ns.load(std::memory_order_relaxed);
      while (last < received_ns &&
             !shared_->last_delivery_ns.compare_exchange_weak(last, received_ns)) {
      }
    }
  }

  WatchShared* shared_;
  const uint32_t count_;
  uint32_t written_ = 0;
  grpc::ClientContext ctx_;
  WatchRequest create_;
  WatchResponse resp_;
  std::map<int64_t, size_t> ids_;  // watch id -> index in watchers_
  std::vector<Watcher> watchers_;
  LatencyHistogram latency_ns_;
  uint64_t stray_events_ = 0;  // not a put of this run, or of an unknown watch id
  grpc::Status status_;
};

// One put of the writer, alive until its completion.
struct PutCall {
  grpc::ClientContext ctx;
  etcdserverpb::PutRequest req;
  etcdserverpb::PutResponse resp;
  uint64_t seq = 0;
  Clock::time_point sent;
};

void SendPut(const BenchOptions& o, WatchShared* shared, etcdserverpb::KV::Stub* stub,
             uint64_t seq) {
  auto* call = new PutCall;
  call->seq = seq;
  call->req.set_key(o.watch_prefix + FormatKey(seq % o.key_space, o.key_size));
  call->sent = Clock::now();
  call->req.set_value(WatchValue(seq, SteadyNs(call->sent), o.val_size));
  call->ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::microseconds(static_cast<int64_t>(o.timeout_s * 1e6)));
  stub->async()->Put(&call->ctx, &call->req, &call->resp, [shared, call](grpc::Status s) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - call->sent);
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      if (s.ok()) {
        ++shared->puts_ok;
        shared->acked.Insert(call->seq);
        shared->put_latency_ns.Record(static_cast<uint64_t>(ns.count()));
      } else {
        ++shared->puts_failed;
        const int code = static_cast<int>(s.error_code());
        if (shared->errors_by_code[code]++ == 0) shared->error_examples[code] = s.error_message();
      }
      SYNOD_ASSERT(shared->inflight > 0, "a put answered twice");
      --shared->inflight;
      shared->cv.notify_all();
    }
    shared->puts_done.fetch_add(1, std::memory_order_relaxed);
    delete call;
  });
}

// Calls `progress` once a second of the run.
class Ticker {
 public:
  Ticker(Clock::time_point start, const std::function<void(const Progress&)>& progress,
         WatchShared* shared)
      : start_(start),
        next_(start + std::chrono::seconds(1)),
        progress_(progress),
        shared_(shared) {}
  Clock::time_point next() const { return next_; }
  void Tick() {
    const auto now = Clock::now();
    if (now < next_) return;
    next_ += std::chrono::seconds(1);
    Progress p;
    p.elapsed_s = std::chrono::duration<double>(now - start_).count();
    p.ok = shared_->delivered.load();
    p.puts = shared_->puts_done.load();
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      p.errors = shared_->puts_failed;
    }
    progress_(p);
  }

 private:
  Clock::time_point start_;
  Clock::time_point next_;
  const std::function<void(const Progress&)>& progress_;
  WatchShared* shared_;
};

// Puts at --rate until --total or --duration, then waits for every answer. Returns when the
// last put was sent.
Clock::time_point Write(const BenchOptions& o, WatchShared* shared, etcdserverpb::KV::Stub* stub,
                        Clock::time_point start, Ticker* ticker) {
  const auto end = start + std::chrono::microseconds(static_cast<int64_t>(o.duration_s * 1e6));
  for (uint64_t seq = 0; o.total == 0 || seq < o.total; ++seq) {
    const auto due = start + std::chrono::nanoseconds(
                                 static_cast<int64_t>(static_cast<double>(seq) * 1e9 / o.rate));
    if (o.duration_s > 0 && due >= end) break;
    while (Clock::now() < due) {
      std::this_thread::sleep_until(std::min(due, ticker->next()));
      ticker->Tick();
    }
    std::unique_lock<std::mutex> lock(shared->mu);
    while (shared->inflight >= kPutsInflightMax) {
      shared->cv.wait_until(lock, ticker->next());
      lock.unlock();
      ticker->Tick();
      lock.lock();
    }
    ++shared->inflight;
    lock.unlock();
    SendPut(o, shared, stub, seq);
  }
  const auto last_sent = Clock::now();
  std::unique_lock<std::mutex> lock(shared->mu);
  while (shared->inflight > 0) {
    shared->cv.wait_until(lock, ticker->next());
    lock.unlock();
    ticker->Tick();
    lock.lock();
  }
  return last_sent;
}

// Compares what each watcher saw with the puts that succeeded.
void Tally(const std::vector<std::unique_ptr<WatchStream>>& streams, WatchShared* shared,
           RunResult* r) {
  WatchStats& w = *r->watch;
  std::lock_guard<std::mutex> lock(shared->mu);
  w.puts_ok = shared->puts_ok;
  w.puts_failed = shared->puts_failed;
  w.put_latency_ns = shared->put_latency_ns;
  const uint64_t puts = shared->puts_ok + shared->puts_failed;
  for (const auto& s : streams) {
    r->latency_ns.Merge(s->latency_ns());
    for (const WatchStream::Watcher& watcher : s->watchers()) {
      ++w.watchers_created;
      uint64_t seen_acked = 0;
      for (uint64_t seq = 0; seq < puts; ++seq) {
        const bool seen = watcher.seen.Contains(seq);
        if (shared->acked.Contains(seq)) {
          seen_acked += seen ? 1 : 0;
        } else if (seen) {
          ++w.unacked_events;
        }
      }
      const uint64_t missed = shared->puts_ok - seen_acked;
      w.missed += missed;
      w.watchers_missing_events += missed > 0 ? 1 : 0;
      w.duplicated += watcher.duplicated;
      w.out_of_order += watcher.out_of_order;
      w.canceled += watcher.canceled ? 1 : 0;
    }
  }
  w.events_expected = w.puts_ok * w.watchers_created;
  r->ok = r->latency_ns.count();
  r->errors = w.puts_failed + w.problems();
  r->errors_by_code = shared->errors_by_code;
  r->error_examples = shared->error_examples;
}

}  // namespace

Result<RunResult> RunWatch(const BenchOptions& o, const std::vector<std::string>& targets,
                           const std::function<void(const Progress&)>& progress) {
  auto connected = ConnectChannels(o.conns, targets);
  if (!connected.ok()) return connected.status();
  auto writer_channel = ConnectChannels(1, targets);
  if (!writer_channel.ok()) return writer_channel.status();
  auto kv = etcdserverpb::KV::NewStub(writer_channel.value()[0]);

  WatchShared shared;
  std::vector<std::unique_ptr<etcdserverpb::Watch::Stub>> stubs;
  std::vector<std::unique_ptr<WatchStream>> streams;
  for (uint32_t i = 0; i < o.conns; ++i) {
    const uint32_t count = o.watchers / o.conns + (i < o.watchers % o.conns ? 1 : 0);
    SYNOD_ASSERT(count > 0, "a connection without watchers");
    stubs.push_back(etcdserverpb::Watch::NewStub(connected.value()[i]));
    streams.push_back(std::make_unique<WatchStream>(&shared, count, o.watch_prefix));
  }
  for (uint32_t i = 0; i < o.conns; ++i) streams[i]->Start(stubs[i].get());

  // The writer starts once every watch is confirmed, so each must see every put.
  const auto create_deadline =
      Clock::now() + std::chrono::microseconds(static_cast<int64_t>(o.timeout_s * 1e6));
  bool created = false;
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    while (Clock::now() < create_deadline && shared.streams_done == 0) {
      if (shared.created.load() == o.watchers) {
        created = true;
        break;
      }
      shared.cv.wait_for(lock, std::chrono::milliseconds(5));
    }
  }

  RunResult r;
  r.watch.emplace();
  r.watch->watchers = o.watchers;
  r.watch->streams = o.conns;
  r.targets = targets;
  const auto start = Clock::now();
  Ticker ticker(start, progress, &shared);
  if (created) {
    const auto last_sent = Write(o, &shared, kv.get(), start, &ticker);
    const auto puts_end = Clock::now();
    r.watch->put_send_s = std::chrono::duration<double>(last_sent - start).count();
    r.watch->put_elapsed_s = std::chrono::duration<double>(puts_end - start).count();
    uint64_t expected = 0;
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      expected = shared.puts_ok * o.watchers;
    }
    // Every expected event, or --timeout seconds without a new one: a backlog that still
    // drains is late, not lost. Bounded, since each wait needs one more of finitely many.
    const auto quiet_max = std::chrono::microseconds(static_cast<int64_t>(o.timeout_s * 1e6));
    uint64_t seen = shared.delivered.load();
    auto last_change = puts_end;
    while (seen < expected && Clock::now() - last_change < quiet_max) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      ticker.Tick();
      const uint64_t now_seen = shared.delivered.load();
      if (now_seen != seen) {
        seen = now_seen;
        last_change = Clock::now();
      }
    }
    r.watch->drained = shared.delivered.load() >= expected;
  }

  for (auto& s : streams) s->Cancel();
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    const bool ended = shared.cv.wait_for(lock, kStreamsEndTimeout,
                                          [&] { return shared.streams_done == o.conns; });
    SYNOD_ASSERT(ended, "watch streams did not end after their cancellation");
  }
  if (!created) {
    std::string why;
    for (const auto& s : streams) {
      if (!s->status().ok() && s->status().error_code() != grpc::StatusCode::CANCELLED) {
        why = ": " + s->status().error_message();
        break;
      }
    }
    return Status(ErrorCode::kUnavailable, std::to_string(shared.created.load()) + " of " +
                                               std::to_string(o.watchers) +
                                               " watches confirmed within --timeout" + why);
  }
  const uint64_t last_ns = shared.last_delivery_ns.load();
  const uint64_t start_ns = SteadyNs(start);
  r.elapsed_s = std::max(r.watch->put_elapsed_s,
                         last_ns > start_ns ? static_cast<double>(last_ns - start_ns) / 1e9 : 0.0);
  Tally(streams, &shared, &r);
  for (const auto& s : streams) r.watch->stray_events += s->stray_events();
  return r;
}

}  // namespace synod::bench
