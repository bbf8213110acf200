#include "register_workload.h"

#include <optional>
#include <random>

namespace synod::cluster_test {
namespace {

using lincheck::OpKind;

// A compare-and-set as etcd clients write it: compare the value (or, for an absent key, its
// version against 0), then put.
etcdserverpb::TxnRequest CasRequest(const std::string& key,
                                    const std::optional<std::string>& expected,
                                    const std::string& value) {
  etcdserverpb::TxnRequest req;
  etcdserverpb::Compare* cmp = req.add_compare();
  cmp->set_key(key);
  cmp->set_result(etcdserverpb::Compare::EQUAL);
  if (expected.has_value()) {
    cmp->set_target(etcdserverpb::Compare::VALUE);
    cmp->set_value(*expected);
  } else {
    cmp->set_target(etcdserverpb::Compare::VERSION);
    cmp->set_version(0);
  }
  etcdserverpb::PutRequest* put = req.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  return req;
}

}  // namespace

RegisterWorkload::RegisterWorkload(LocalCluster& cluster, OpHistory& history,
                                   RegisterWorkloadOptions options)
    : cluster_(cluster), history_(history), options_(std::move(options)) {}

RegisterWorkload::~RegisterWorkload() {
  Stop();
}

void RegisterWorkload::Start() {
  stop_ = false;
  for (int c = 0; c < options_.clients; ++c) {
    threads_.emplace_back([this, c] { RunClient(c); });
  }
}

void RegisterWorkload::Stop() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void RegisterWorkload::RunClient(int client) {
  std::mt19937_64 rng(options_.seed * 1000003 + static_cast<uint64_t>(client));
  // What this client last saw in each key: the expected value of its next CAS there.
  std::vector<std::optional<std::string>> seen(static_cast<size_t>(options_.keys));
  const uint64_t worker_id = static_cast<uint64_t>(client) + 1;
  for (uint64_t n = 0; !stop_.load(); ++n) {
    const int k = static_cast<int>(rng() % static_cast<uint64_t>(options_.keys));
    const std::string key = options_.key_prefix + std::to_string(k);
    const int member_index = static_cast<int>(rng() % static_cast<uint64_t>(cluster_.size()));
    EtcdClient& member = cluster_.client(member_index);
    // The history's client field says who asked whom: 10 * client + member (the checker
    // gives it no meaning; a reader of a failing history does).
    const uint64_t client_id = 10 * worker_id + static_cast<uint64_t>(member_index);
    const std::string value = "c" + std::to_string(worker_id) + "-" + std::to_string(n);
    const uint64_t pick = rng() % 10;
    if (pick < 4) {
      const OpHistory::OpId id = history_.Invoke(client_id, key, OpKind::kRead);
      etcdserverpb::RangeResponse resp;
      const grpc::Status s = member.Get(key, options_.op_timeout, &resp);
      if (!s.ok()) {
        history_.Error(id, s);
      } else {
        std::optional<std::string> out;
        if (resp.kvs_size() > 0) out = resp.kvs(0).value();
        history_.Ok(id, out);
        seen[k] = out;
        ++ok_ops_;
      }
    } else if (pick < 7) {
      const OpHistory::OpId id = history_.Invoke(client_id, key, OpKind::kWrite, value);
      const grpc::Status s = member.Put(key, value, options_.op_timeout);
      if (!s.ok()) {
        history_.Error(id, s);
      } else {
        history_.Ok(id);
        seen[k] = value;
        ++ok_ops_;
      }
    } else {
      const OpHistory::OpId id = history_.Invoke(client_id, key, OpKind::kCas, value, seen[k]);
      etcdserverpb::TxnResponse resp;
      const grpc::Status s =
          member.Txn(CasRequest(key, seen[k], value), options_.op_timeout, &resp);
      if (!s.ok()) {
        history_.Error(id, s);
      } else if (resp.succeeded()) {
        history_.Ok(id);
        seen[k] = value;
        ++ok_ops_;
      } else {
        history_.Fail(id);  // the comparison failed: nothing was written
        ++ok_ops_;
      }
    }
    std::this_thread::sleep_for(options_.think_time);
  }
}

}  // namespace synod::cluster_test
