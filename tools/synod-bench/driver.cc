#include "driver.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "base/random.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "keys.h"

namespace synod::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kShards = 16;  // latency histograms, each behind its own mutex
// A callback that gRPC runs inline (inside the call that starts the next request) would recurse
// once per request; past this depth the next request is started from the main thread instead.
constexpr int kInlineDepthMax = 8;
constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kStatusTimeout = std::chrono::seconds(5);

class Client;

// State shared by all clients of one run. Thread-safe.
class Runner {
 public:
  Runner(const BenchOptions& options, size_t clients)
      : options_(options), active_(static_cast<int>(clients)) {}

  // Claims the right to send one more request; false when the run is over.
  bool ClaimTicket() {
    if (options_.duration_s > 0 && Clock::now() >= deadline_) return false;
    if (options_.total > 0 && issued_.fetch_add(1, std::memory_order_relaxed) >= options_.total) {
      return false;
    }
    return true;
  }
  void RecordOk(int shard, uint64_t ns) {
    {
      std::lock_guard<std::mutex> lock(shards_[shard].mu);
      shards_[shard].latency_ns.Record(ns);
    }
    ok_.fetch_add(1, std::memory_order_relaxed);
  }
  void RecordError(const grpc::Status& status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int code = static_cast<int>(status.error_code());
      if (errors_by_code_[code]++ == 0) error_examples_[code] = status.error_message();
    }
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  void ClientFinished() {
    std::lock_guard<std::mutex> lock(mu_);
    SYNOD_ASSERT(active_ > 0, "more clients finished than started");
    if (--active_ == 0) cv_.notify_all();
  }
  void Defer(Client* client) {
    std::lock_guard<std::mutex> lock(mu_);
    deferred_.push_back(client);
    cv_.notify_all();
  }

  // Waits until every client has finished, restarting deferred clients and reporting progress.
  void Wait(Clock::time_point start, const std::function<void(const Progress&)>& progress);
  void Collect(RunResult* out);

  const BenchOptions& options() const { return options_; }
  void set_deadline(Clock::time_point d) { deadline_ = d; }

 private:
  struct Shard {
    std::mutex mu;
    LatencyHistogram latency_ns;
  };
  const BenchOptions& options_;
  Clock::time_point deadline_;
  std::atomic<uint64_t> issued_{0};
  std::atomic<uint64_t> ok_{0};
  std::atomic<uint64_t> errors_{0};
  Shard shards_[kShards];
  std::mutex mu_;  // guards the members below
  std::condition_variable cv_;
  int active_;
  std::vector<Client*> deferred_;
  std::map<int, uint64_t> errors_by_code_;
  std::map<int, std::string> error_examples_;
};

// One outstanding request at a time; the completion of one sends the next.
class Client {
 public:
  Client(Runner* runner, etcdserverpb::KV::Stub* stub, KeyShared* keys, uint64_t seed, int shard,
         const std::string& value)
      : runner_(runner), stub_(stub), keys_(keys, seed), shard_(shard) {
    const BenchOptions& o = runner->options();
    put_.set_value(value);
    range_.set_serializable(o.serializable);
    auto* txn_put = txn_.add_success()->mutable_request_put();
    txn_put->set_value(value);
  }

  void Issue() {
    thread_local int depth = 0;
    if (depth >= kInlineDepthMax) {
      runner_->Defer(this);
      return;
    }
    if (!runner_->ClaimTicket()) {
      runner_->ClientFinished();
      return;
    }
    const BenchOptions& o = runner_->options();
    const std::string key = FormatKey(keys_.NextIndex(), o.key_size);
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(static_cast<int64_t>(o.timeout_s * 1e6)));
    auto done = [this](grpc::Status s) { OnDone(s); };
    ++depth;
    start_ = Clock::now();
    // Nothing of `this` may be touched after the call: the completion may already run.
    switch (o.workload) {
      case Workload::kPut:
        put_.set_key(key);
        stub_->async()->Put(ctx_.get(), &put_, &put_resp_, std::move(done));
        break;
      case Workload::kRange:
        range_.set_key(key);
        stub_->async()->Range(ctx_.get(), &range_, &range_resp_, std::move(done));
        break;
      case Workload::kTxnPut:
        txn_.mutable_success(0)->mutable_request_put()->set_key(key);
        stub_->async()->Txn(ctx_.get(), &txn_, &txn_resp_, std::move(done));
        break;
      case Workload::kDelete:
        delete_.set_key(key);
        stub_->async()->DeleteRange(ctx_.get(), &delete_, &delete_resp_, std::move(done));
        break;
    }
    --depth;
  }

 private:
  void OnDone(const grpc::Status& status) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_);
    if (status.ok()) {
      runner_->RecordOk(shard_, static_cast<uint64_t>(ns.count()));
    } else {
      runner_->RecordError(status);
    }
    Issue();
  }

  Runner* runner_;
  etcdserverpb::KV::Stub* stub_;
  KeyChooser keys_;
  int shard_;
  Clock::time_point start_;
  // Replaced for each request (a context serves one call); the old one is destroyed inside
  // its own completion, which gRPC's callback API allows.
  std::unique_ptr<grpc::ClientContext> ctx_;
  etcdserverpb::PutRequest put_;
  etcdserverpb::PutResponse put_resp_;
  etcdserverpb::RangeRequest range_;
  etcdserverpb::RangeResponse range_resp_;
  etcdserverpb::TxnRequest txn_;
  etcdserverpb::TxnResponse txn_resp_;
  etcdserverpb::DeleteRangeRequest delete_;
  etcdserverpb::DeleteRangeResponse delete_resp_;
};

void Runner::Wait(Clock::time_point start, const std::function<void(const Progress&)>& progress) {
  auto next_report = start + std::chrono::seconds(1);
  std::unique_lock<std::mutex> lock(mu_);
  while (active_ > 0) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    std::vector<Client*> restart;
    restart.swap(deferred_);
    if (!restart.empty()) {
      lock.unlock();
      for (Client* c : restart) c->Issue();
      lock.lock();
    }
    const auto now = Clock::now();
    if (now >= next_report && active_ > 0) {
      next_report += std::chrono::seconds(1);
      Progress p;
      p.elapsed_s = std::chrono::duration<double>(now - start).count();
      p.ok = ok_.load();
      p.errors = errors_.load();
      lock.unlock();
      progress(p);
      lock.lock();
    }
  }
}

void Runner::Collect(RunResult* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->ok = ok_.load();
  out->errors = errors_.load();
  out->errors_by_code = errors_by_code_;
  out->error_examples = error_examples_;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> shard_lock(s.mu);
    out->latency_ns.Merge(s.latency_ns);
  }
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  // Channels with equal arguments would share one TCP connection through gRPC's global
  // subchannel pool; a local pool gives each channel its own, as --conns promises.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::string ValueBytes(uint64_t seed, uint32_t size) {
  Random random(seed ^ 0x76616c7565ULL);
  std::string value(size, 'x');
  for (char& c : value) c = static_cast<char>('a' + random.Uniform(26));
  return value;
}

}  // namespace

Result<std::vector<std::string>> ChooseTargets(const BenchOptions& options, std::string* leader) {
  std::vector<std::string> all;
  for (const Endpoint& e : options.endpoints) all.push_back(e.address());
  if (options.target == Target::kAll) return all;
  std::string answers;
  for (const std::string& address : all) {
    auto stub = etcdserverpb::Maintenance::NewStub(NewChannel(address));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kStatusTimeout);
    etcdserverpb::StatusResponse resp;
    const grpc::Status s = stub->Status(&ctx, etcdserverpb::StatusRequest(), &resp);
    if (!s.ok()) {
      answers += " " + address + ": " + s.error_message() + ";";
      continue;
    }
    answers += " " + address + ": member " + std::to_string(resp.header().member_id()) +
               " names leader " + std::to_string(resp.leader()) + ";";
    if (resp.leader() != 0 && resp.leader() == resp.header().member_id()) *leader = address;
  }
  if (leader->empty()) {
    return Status(ErrorCode::kUnavailable,
                  "no endpoint is the leader (is it among --endpoints?):" + answers);
  }
  if (options.target == Target::kLeader) return std::vector<std::string>{*leader};
  std::vector<std::string> followers;
  for (const std::string& a : all) {
    if (a != *leader) followers.push_back(a);
  }
  return followers;
}

Result<RunResult> RunBenchmark(const BenchOptions& options, const std::vector<std::string>& targets,
                               const std::function<void(const Progress&)>& progress) {
  SYNOD_ASSERT(!targets.empty(), "no targets");
  SYNOD_ASSERT(options.clients >= options.conns, "fewer clients than connections");
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs;
  for (uint32_t i = 0; i < options.conns; ++i) {
    const std::string& address = targets[i % targets.size()];
    channels.push_back(NewChannel(address));
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout)) {
      return Status(ErrorCode::kUnavailable, "cannot connect to " + address + " within 5 s");
    }
    stubs.push_back(etcdserverpb::KV::NewStub(channels.back()));
  }

  KeyShared keys;
  keys.dist = options.key_dist;
  keys.key_space = options.key_space;
  if (options.key_dist == KeyDist::kZipfian) {
    keys.zipfian = std::make_unique<Zipfian>(options.key_space, options.zipf_exponent);
  }
  const std::string value = ValueBytes(options.seed, options.val_size);
  Runner runner(options, options.clients);
  Random seeds(options.seed);
  std::vector<std::unique_ptr<Client>> clients;
  for (uint32_t i = 0; i < options.clients; ++i) {
    clients.push_back(std::make_unique<Client>(&runner, stubs[i % stubs.size()].get(), &keys,
                                               seeds.Next(), static_cast<int>(i % kShards), value));
  }

  const auto start = Clock::now();
  runner.set_deadline(start +
                      std::chrono::microseconds(static_cast<int64_t>(options.duration_s * 1e6)));
  for (auto& c : clients) c->Issue();
  runner.Wait(start, progress);
  RunResult result;
  result.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  runner.Collect(&result);
  result.targets = targets;
  return result;
}

}  // namespace synod::bench
