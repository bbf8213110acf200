// A minimal etcd v3 client for the tests: one member's KV and Maintenance stubs, every call
// with a deadline. Errors come back as grpc::Status, so a test can tell "no leader" from a
// timeout. Thread-safe.
//
// A call that finds the member unreachable drops the channel, and the next call dials anew:
// gRPC's channel backs off for many seconds after a member was down, while a test wants to
// see a restarted member as soon as it listens (as a freshly started etcdctl would).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

#include "etcdserverpb/rpc.grpc.pb.h"

namespace synod::cluster_test {

class EtcdClient {
 public:
  explicit EtcdClient(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  grpc::Status Put(const std::string& key, const std::string& value,
                   std::chrono::milliseconds timeout, etcdserverpb::PutResponse* out = nullptr);
  // A linearizable read of one key unless `serializable`.
  grpc::Status Get(const std::string& key, std::chrono::milliseconds timeout,
                   etcdserverpb::RangeResponse* out, bool serializable = false);
  grpc::Status GetPrefix(const std::string& prefix, std::chrono::milliseconds timeout,
                         etcdserverpb::RangeResponse* out, bool serializable = false);
  grpc::Status Status(std::chrono::milliseconds timeout, etcdserverpb::StatusResponse* out);
  grpc::Status Txn(const etcdserverpb::TxnRequest& req, std::chrono::milliseconds timeout,
                   etcdserverpb::TxnResponse* out);

 private:
  struct Stubs {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  };
  std::shared_ptr<Stubs> Current();
  // Drops `used` if it is still the current channel and `s` says the member is unreachable.
  grpc::Status Check(const std::shared_ptr<Stubs>& used, grpc::Status s);
  grpc::Status Range(etcdserverpb::RangeRequest req, std::chrono::milliseconds timeout,
                     etcdserverpb::RangeResponse* out);

  const std::string endpoint_;
  std::mutex mu_;  // guards stubs_
  std::shared_ptr<Stubs> stubs_;
};

}  // namespace synod::cluster_test
