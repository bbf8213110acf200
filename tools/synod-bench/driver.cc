#include "driver.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

#include "base/random.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "keys.h"
#include "lease_run.h"
#include "runner.h"
#include "watch_run.h"

namespace synod::bench {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kStatusTimeout = std::chrono::seconds(5);

// One outstanding request at a time; the completion of one sends the next.
class Client final : public Issuer {
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

  void Issue() override {
    if (!EnterIssue(runner_, this)) return;
    if (!runner_->ClaimTicket()) {
      LeaveIssue();
      runner_->ClientFinished();
      return;
    }
    const BenchOptions& o = runner_->options();
    const std::string key = FormatKey(keys_.NextIndex(), o.key_size);
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(static_cast<int64_t>(o.timeout_s * 1e6)));
    auto done = [this](grpc::Status s) { OnDone(s); };
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
      case Workload::kWatch:
      case Workload::kLease:
        SYNOD_ASSERT(false, "watch and lease have clients of their own");
    }
    LeaveIssue();
  }

 private:
  void OnDone(const grpc::Status& status) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_);
    if (status.ok()) {
      runner_->RecordOk(shard_, static_cast<uint64_t>(ns.count()));
    } else {
      runner_->RecordError(static_cast<int>(status.error_code()), status.error_message());
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

std::string ValueBytes(uint64_t seed, uint32_t size) {
  Random random(seed ^ 0x76616c7565ULL);
  std::string value(size, 'x');
  for (char& c : value) c = static_cast<char>('a' + random.Uniform(26));
  return value;
}

}  // namespace

const char* LeaseStepName(LeaseStep step) {
  switch (step) {
    case LeaseStep::kGrant:
      return "grant";
    case LeaseStep::kKeepAlive:
      return "keep-alive";
    case LeaseStep::kRevoke:
      return "revoke";
  }
  return "?";
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  // Channels with equal arguments would share one TCP connection through gRPC's global
  // subchannel pool; a local pool gives each channel its own, as --conns promises.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

Result<std::vector<std::shared_ptr<grpc::Channel>>> ConnectChannels(
    uint32_t count, const std::vector<std::string>& targets) {
  SYNOD_ASSERT(!targets.empty(), "no targets");
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string& address = targets[i % targets.size()];
    channels.push_back(NewChannel(address));
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout)) {
      return Status(ErrorCode::kUnavailable, "cannot connect to " + address + " within 5 s");
    }
  }
  return channels;
}

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
  if (options.workload == Workload::kWatch) return RunWatch(options, targets, progress);
  SYNOD_ASSERT(options.clients >= options.conns, "fewer clients than connections");
  auto connected = ConnectChannels(options.conns, targets);
  if (!connected.ok()) return connected.status();
  const std::vector<std::shared_ptr<grpc::Channel>>& channels = connected.value();
  if (options.workload == Workload::kLease) return RunLease(options, targets, channels, progress);
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs;
  for (const auto& channel : channels) stubs.push_back(etcdserverpb::KV::NewStub(channel));

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
                                               seeds.Next(), static_cast<int>(i % Runner::kShards),
                                               value));
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
