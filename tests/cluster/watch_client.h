// One etcd Watch stream to one member, for the tests: requests are written at once; a reader
// thread collects the responses, which the test takes with a deadline. The reader can start
// paused, to play a client that does not read (the server must then hold back, not buffer
// without bound).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "etcdserverpb/rpc.grpc.pb.h"

namespace synod::cluster_test {

class WatchClient {
 public:
  explicit WatchClient(const std::string& endpoint, bool start_paused = false);
  ~WatchClient();  // cancels the stream and joins the reader
  WatchClient(const WatchClient&) = delete;
  WatchClient& operator=(const WatchClient&) = delete;

  bool Create(const etcdserverpb::WatchCreateRequest& create);
  bool Cancel(int64_t watch_id);
  bool RequestProgress();
  void Resume();  // lets a paused reader read

  // The next response, or nullopt once `timeout` passed or the stream ended.
  std::optional<etcdserverpb::WatchResponse> Next(std::chrono::milliseconds timeout);
  // The stream's final status, once it ended (the server finished it).
  std::optional<grpc::Status> ended();

 private:
  bool Write(const etcdserverpb::WatchRequest& r);
  void Read();

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::Watch::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      stream_;
  std::mutex write_mu_;  // one writer at a time
  std::mutex mu_;        // guards everything below
  std::condition_variable cv_;
  std::deque<etcdserverpb::WatchResponse> got_;
  bool paused_ = false;
  std::optional<grpc::Status> ended_;
  std::thread reader_;
};

}  // namespace synod::cluster_test
