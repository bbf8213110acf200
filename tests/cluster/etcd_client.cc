#include "etcd_client.h"

namespace synod::cluster_test {
namespace {

void SetDeadline(grpc::ClientContext* ctx, std::chrono::milliseconds timeout) {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
}

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::string(1, '\0');
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

}  // namespace

std::shared_ptr<EtcdClient::Stubs> EtcdClient::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stubs_ == nullptr) {
    auto s = std::make_shared<Stubs>();
    s->channel = grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials());
    s->kv = etcdserverpb::KV::NewStub(s->channel);
    s->maintenance = etcdserverpb::Maintenance::NewStub(s->channel);
    stubs_ = std::move(s);
  }
  return stubs_;
}

grpc::Status EtcdClient::Check(const std::shared_ptr<Stubs>& used, grpc::Status s) {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
      s.error_message().find("connect") != std::string::npos) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stubs_ == used) stubs_.reset();
  }
  return s;
}

grpc::Status EtcdClient::Put(const std::string& key, const std::string& value,
                             std::chrono::milliseconds timeout, etcdserverpb::PutResponse* out) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  etcdserverpb::PutResponse resp;
  auto stubs = Current();
  return Check(stubs, stubs->kv->Put(&ctx, req, out != nullptr ? out : &resp));
}

grpc::Status EtcdClient::Range(etcdserverpb::RangeRequest req, std::chrono::milliseconds timeout,
                               etcdserverpb::RangeResponse* out) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  auto stubs = Current();
  return Check(stubs, stubs->kv->Range(&ctx, req, out));
}

grpc::Status EtcdClient::Get(const std::string& key, std::chrono::milliseconds timeout,
                             etcdserverpb::RangeResponse* out, bool serializable) {
  etcdserverpb::RangeRequest req;
  req.set_key(key);
  req.set_serializable(serializable);
  return Range(std::move(req), timeout, out);
}

grpc::Status EtcdClient::GetPrefix(const std::string& prefix, std::chrono::milliseconds timeout,
                                   etcdserverpb::RangeResponse* out, bool serializable) {
  etcdserverpb::RangeRequest req;
  req.set_key(prefix);
  req.set_range_end(PrefixEnd(prefix));
  req.set_serializable(serializable);
  return Range(std::move(req), timeout, out);
}

grpc::Status EtcdClient::Txn(const etcdserverpb::TxnRequest& req, std::chrono::milliseconds timeout,
                             etcdserverpb::TxnResponse* out) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  auto stubs = Current();
  return Check(stubs, stubs->kv->Txn(&ctx, req, out));
}

grpc::Status EtcdClient::Status(std::chrono::milliseconds timeout,
                                etcdserverpb::StatusResponse* out) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  auto stubs = Current();
  return Check(stubs, stubs->maintenance->Status(&ctx, etcdserverpb::StatusRequest(), out));
}

}  // namespace synod::cluster_test
