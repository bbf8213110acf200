#include "watch_client.h"

namespace synod::cluster_test {

WatchClient::WatchClient(const std::string& endpoint, bool start_paused) : paused_(start_paused) {
  channel_ = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  stub_ = etcdserverpb::Watch::NewStub(channel_);
  stream_ = stub_->Watch(&ctx_);
  reader_ = std::thread([this] { Read(); });
}

WatchClient::~WatchClient() {
  ctx_.TryCancel();
  Resume();
  reader_.join();
}

void WatchClient::Read() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !paused_; });
  }
  etcdserverpb::WatchResponse r;
  while (stream_->Read(&r)) {
    std::lock_guard<std::mutex> lock(mu_);
    got_.push_back(std::move(r));
    r = etcdserverpb::WatchResponse();
    cv_.notify_all();
  }
  grpc::Status s = stream_->Finish();
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = s;
  cv_.notify_all();
}

void WatchClient::Resume() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = false;
  cv_.notify_all();
}

bool WatchClient::Write(const etcdserverpb::WatchRequest& r) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return stream_->Write(r);
}

bool WatchClient::Create(const etcdserverpb::WatchCreateRequest& create) {
  etcdserverpb::WatchRequest r;
  *r.mutable_create_request() = create;
  return Write(r);
}

bool WatchClient::Cancel(int64_t watch_id) {
  etcdserverpb::WatchRequest r;
  r.mutable_cancel_request()->set_watch_id(watch_id);
  return Write(r);
}

bool WatchClient::RequestProgress() {
  etcdserverpb::WatchRequest r;
  r.mutable_progress_request();
  return Write(r);
}

std::optional<etcdserverpb::WatchResponse> WatchClient::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return !got_.empty() || ended_.has_value(); });
  if (got_.empty()) return std::nullopt;
  etcdserverpb::WatchResponse r = std::move(got_.front());
  got_.pop_front();
  return r;
}

std::optional<grpc::Status> WatchClient::ended() {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_;
}

}  // namespace synod::cluster_test
