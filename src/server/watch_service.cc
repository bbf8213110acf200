#include "server/watch_service.h"

#include <grpcpp/grpcpp.h>

#include <deque>
#include <mutex>

#include "api/grpc_status.h"
#include "base/assert.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "server/serving_context.h"
#include "server/watch_convert.h"
#include "server/watch_hub.h"

namespace synod::server {
namespace {

using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

// One Watch stream. Owned by itself (self_) until gRPC calls OnDone; the hub's wake callback
// holds only a weak reference, so a late wake-up finds either a live reactor or nothing.
// Every gRPC operation is started under mu_, which orders them (one write in flight, no read
// or write after Finish); gRPC never runs a reaction inline, so that cannot deadlock.
class WatchReactor final : public grpc::ServerBidiReactor<WatchRequest, WatchResponse> {
 public:
  static WatchReactor* Start(ServingContext* ctx, WatchHub* hub) {
    auto r = std::shared_ptr<WatchReactor>(new WatchReactor(ctx, hub));
    r->self_ = r;
    std::weak_ptr<WatchReactor> weak = r;
    std::lock_guard<std::mutex> lock(r->mu_);
    if (!ctx->stopping()) {
      r->stream_ = hub->OpenStream([weak] {
        if (auto live = weak.lock()) live->TrySend();
      });
    }
    if (r->stream_ == nullptr) {
      r->finish_called_ = true;
      r->Finish(api::ToGrpcStatus(ctx->stopping() ? api::EtcdError::kStopped
                                                  : api::EtcdError::kTooManyRequests));
    } else {
      r->StartRead(&r->request_);
    }
    return r.get();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the client half-closed (the stream goes on, as etcd's) or cancelled
    switch (request_.request_union_case()) {
      case WatchRequest::kCreateRequest:
        hub_->Create(*stream_, FromProto(request_.create_request()));
        break;
      case WatchRequest::kCancelRequest:
        hub_->Cancel(*stream_, request_.cancel_request().watch_id());
        break;
      case WatchRequest::kProgressRequest:
        hub_->RequestProgress(*stream_);
        break;
      case WatchRequest::REQUEST_UNION_NOT_SET:
        break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_called_) return;
    // Reading waits while the queue is full, so a client that does not read its responses
    // cannot make the server queue answers to its requests without bound.
    if (hub_->Backlogged(*stream_)) {
      read_paused_ = true;
    } else {
      StartRead(&request_);
    }
    SendLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    write_in_flight_ = false;
    if (!ok) broken_ = true;  // the client went away; OnCancel follows
    if (read_paused_ && !broken_ && !finish_called_ && !hub_->Backlogged(*stream_)) {
      read_paused_ = false;
      StartRead(&request_);
    }
    SendLocked();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    broken_ = true;
    SendLocked();
  }

  void OnDone() override {
    if (stream_ != nullptr) hub_->CloseStream(stream_);
    std::shared_ptr<WatchReactor> last = std::move(self_);  // may free `this` on return
  }

  void TrySend() {
    std::lock_guard<std::mutex> lock(mu_);
    SendLocked();
  }

 private:
  WatchReactor(ServingContext* ctx, WatchHub* hub) : ctx_(ctx), hub_(hub) {}

  // Starts the next write, or finishes the stream when it is broken or the hub closed.
  void SendLocked() {
    if (finish_called_ || write_in_flight_) return;
    if (broken_) {
      finish_called_ = true;
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "watch stream cancelled"));
      return;
    }
    if (pending_.empty()) TakeNextLocked();
    if (!pending_.empty()) {
      out_ = std::move(pending_.front());
      pending_.pop_front();
      // With another response ready behind this one, gRPC may hold this one in its buffer
      // and send both in one frame: under a burst (a put seen by many watchers of one stream)
      // that saves a flush per response. The last response of a burst goes without the hint,
      // so nothing waits in the buffer for a write that is not coming.
      if (pending_.empty()) TakeNextLocked();
      grpc::WriteOptions options;
      if (!pending_.empty()) options.set_buffer_hint();
      write_in_flight_ = true;
      StartWrite(&out_, options);
    } else if (hub_->Finished(*stream_)) {
      finish_called_ = true;
      Finish(api::ToGrpcStatus(api::EtcdError::kStopped));
    }
  }

  // Moves the hub's next response for this stream, as wire fragments, into pending_.
  void TakeNextLocked() {
    std::optional<WatchEvents> next = hub_->Pop(*stream_);
    if (!next) return;
    WatchHeaderFields h;
    h.cluster_id = ctx_->cluster_id();
    h.member_id = ctx_->member_id();
    h.raft_term = ctx_->node().Info().term.value;
    const auto limit = static_cast<size_t>(ctx_->limits().request_bytes_max);
    for (WatchResponse& w : ToWire(*next, h, limit)) pending_.push_back(std::move(w));
  }

  ServingContext* const ctx_;
  WatchHub* const hub_;
  std::shared_ptr<WatchReactor> self_;
  std::shared_ptr<WatchStream> stream_;  // set once in Start
  WatchRequest request_;                 // the read in flight (one at a time)

  std::mutex mu_;                      // guards everything below, and orders the gRPC operations
  WatchResponse out_;                  // the write in flight
  std::deque<WatchResponse> pending_;  // fragments of at most two hub responses, not yet written
  bool write_in_flight_ = false;
  bool read_paused_ = false;
  bool broken_ = false;
  bool finish_called_ = false;
};

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  WatchService(ServingContext* ctx, WatchHub* hub) : ctx_(ctx), hub_(hub) {}

  grpc::ServerBidiReactor<WatchRequest, WatchResponse>* Watch(
      grpc::CallbackServerContext* /*call*/) override {
    return WatchReactor::Start(ctx_, hub_);
  }

 private:
  ServingContext* const ctx_;
  WatchHub* const hub_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewWatchService(ServingContext* context, WatchHub* hub) {
  SYNOD_ASSERT(context != nullptr && hub != nullptr, "the watch service needs its hub");
  return std::make_unique<WatchService>(context, hub);
}

}  // namespace synod::server
