// Accepted connections: a handshake, then frames of messages from one peer node. Anything a
// synod node would never send closes that connection only, and is logged and counted.
#include <string>
#include <utility>

#include "base/assert.h"
#include "transport/transport_impl.h"

namespace synod::transport {
namespace {

auto NoThrow(asio::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

std::string RemoteName(const tcp::socket& socket) {
  asio::error_code ec;
  const tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// A descriptor-exhausted acceptor fails at once on every try; pausing keeps it from spinning.
constexpr std::chrono::milliseconds kAcceptErrorPause{100};

}  // namespace

asio::awaitable<void> Transport::Impl::AcceptLoop() {
  for (;;) {
    auto socket = std::make_shared<tcp::socket>(io_);
    asio::error_code ec;
    co_await acceptor_.async_accept(*socket, NoThrow(ec));
    if (!acceptor_.is_open()) co_return;
    if (ec) {
      Log("accept: " + ec.message());
      asio::steady_timer pause(io_, kAcceptErrorPause);
      co_await pause.async_wait(NoThrow(ec));
      continue;
    }
    if (inbound_.size() >= options_.inbound_connections_max) {
      Log("refusing connection from " + RemoteName(*socket) + ": " +
          std::to_string(inbound_.size()) + " inbound connections already");
      socket->close(ec);
      std::lock_guard lock(mu_);
      ++inbound_rejected_;
      continue;
    }
    socket->set_option(tcp::no_delay(true), ec);  // only responses flow back: best effort
    inbound_.insert(socket);
    inbound_open_ = inbound_.size();
    {
      std::lock_guard lock(mu_);
      ++inbound_accepted_;
    }
    asio::co_spawn(io_, InboundLoop(socket), CheckCoroutineExit);
  }
}

Status Transport::Impl::CheckHandshake(const Handshake& h) const {
  if (h.protocol_version != kProtocolVersion) {
    return Status(ErrorCode::kInvalidArgument,
                  "protocol version " + std::to_string(h.protocol_version) + ", expected " +
                      std::to_string(kProtocolVersion));
  }
  if (h.cluster_token != options_.cluster_token) {
    return Status(ErrorCode::kInvalidArgument, "cluster token mismatch");
  }
  if (h.from == raft::kNoNode || h.from == options_.node_id) {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid sender node id " + std::to_string(h.from.value));
  }
  if (h.to != options_.node_id) {
    return Status(ErrorCode::kInvalidArgument, "addressed to node " + std::to_string(h.to.value) +
                                                   ", this is node " +
                                                   std::to_string(options_.node_id.value));
  }
  return Status::Ok();
}

Status Transport::Impl::CheckMessages(const Handshake& h, std::span<const raft::Message> messages,
                                      size_t frame_bytes) const {
  // Frames above the ordinary limit are allowed only for what the writer puts in them.
  if (frame_bytes > options_.frame_bytes_max &&
      (messages.size() != 1 || messages[0].type != raft::MessageType::kSnapshot)) {
    return Status(ErrorCode::kLimitExceeded,
                  "frame of " + std::to_string(frame_bytes) + " bytes without a lone snapshot");
  }
  for (const raft::Message& m : messages) {
    // A connection speaks for the node of its handshake only; a message claiming another
    // sender or another recipient is misrouted or forged, and Raft must never see it.
    if (m.from != h.from || m.to != options_.node_id) {
      return Status(ErrorCode::kInvalidArgument,
                    "message " + std::to_string(m.from.value) + "->" + std::to_string(m.to.value) +
                        " on the connection of node " + std::to_string(h.from.value));
    }
  }
  return Status::Ok();
}

void Transport::Impl::Deliver(raft::NodeId from, std::vector<raft::Message> messages,
                              size_t bytes) {
  {
    std::lock_guard lock(mu_);
    PeerCounters& c = counters_[from];
    if (auto f = faults_.find(from); f != faults_.end() && f->second.config().blocked) {
      c.discarded_fault += messages.size();
      return;
    }
    c.msgs_received += messages.size();
    c.bytes_received += bytes;
  }
  if (!messages.empty() && !stopping_ && callbacks_.on_message) {
    callbacks_.on_message(std::move(messages));
  }
}

Status Transport::Impl::StartIncoming(const Handshake& h, raft::Message m, uint64_t bytes,
                                      std::optional<SnapshotReceiver>* incoming) {
  if (incoming->has_value()) {
    return Status(ErrorCode::kInvalidArgument, "a snapshot announced before the last one ended");
  }
  if (bytes > options_.streamed_snapshot_bytes_max) {
    return Status(ErrorCode::kLimitExceeded,
                  "a snapshot of " + std::to_string(bytes) + " bytes, above the limit of " +
                      std::to_string(options_.streamed_snapshot_bytes_max));
  }
  const std::string what = "the snapshot of " + std::to_string(bytes) + " bytes at index " +
                           std::to_string(m.snapshot->metadata.index.value) + " from node " +
                           std::to_string(h.from.value);
  std::unique_ptr<SnapshotSink> sink;
  if (!callbacks_.open_snapshot_sink) {
    Log("discarding " + what + ": no place to keep snapshots");
  } else if (auto opened = callbacks_.open_snapshot_sink(m, bytes); !opened.ok()) {
    Log("discarding " + what + ": " + opened.status().ToString());
  } else {
    sink = std::move(opened.value());
    Log("receiving " + what);
  }
  incoming->emplace(std::move(m), bytes, std::move(sink));
  return Status::Ok();
}

Status Transport::Impl::TakeChunk(const Handshake& h, const SnapshotChunkView& chunk,
                                  std::optional<SnapshotReceiver>* incoming,
                                  std::vector<raft::Message>* batch) {
  if (!incoming->has_value()) {
    return Status(ErrorCode::kInvalidArgument, "a snapshot chunk without its snapshot");
  }
  Status s = (*incoming)->Add(chunk);
  if (!s.ok() || !(*incoming)->done()) return s;
  Result<raft::Message> m = (*incoming)->Finish();
  const uint64_t bytes = (*incoming)->received();
  incoming->reset();
  if (!m.ok()) {
    Log("dropped the snapshot of " + std::to_string(bytes) + " bytes from node " +
        std::to_string(h.from.value) + ": " + m.status().ToString());
    return Status::Ok();
  }
  Log("received a snapshot of " + std::to_string(bytes) + " bytes from node " +
      std::to_string(h.from.value));
  batch->push_back(std::move(m.value()));
  return Status::Ok();
}

asio::awaitable<void> Transport::Impl::InboundLoop(SocketPtr socket) {
  const std::string remote = RemoteName(*socket);
  FrameReader reader(kHandshakeFrameBytesMax);
  BatchDecoder decoder;
  std::optional<Handshake> hello;
  // The streamed snapshot arriving on this connection; a connection that ends before its
  // last chunk discards it.
  std::optional<SnapshotReceiver> incoming;
  asio::steady_timer handshake_deadline(io_);
  ArmDeadline(handshake_deadline, options_.handshake_timeout, socket);
  Status failure;
  asio::error_code ec;
  while (failure.ok()) {
    const std::span<char> space = reader.WritableSpace();
    const size_t n =
        co_await socket->async_read_some(asio::buffer(space.data(), space.size()), NoThrow(ec));
    if (ec) {
      // A closed connection is normal; one that never said hello is not.
      if (!hello) failure = Status(ErrorCode::kInvalidArgument, "no handshake: " + ec.message());
      break;
    }
    reader.Commit(n);
    std::vector<raft::Message> batch;
    size_t batch_bytes = 0;
    for (;;) {
      Result<std::optional<std::string_view>> next = reader.Next();
      if (!next.ok()) {
        failure = next.status();
        break;
      }
      if (!next.value().has_value()) break;
      const std::string_view payload = *next.value();
      if (!hello) {
        Result<Handshake> h = DecodeHandshake(payload);
        failure = h.ok() ? CheckHandshake(h.value()) : h.status();
        if (!failure.ok()) break;
        hello = std::move(h.value());
        handshake_deadline.cancel();
        reader.set_frame_bytes_max(options_.snapshot_frame_bytes_max);
        Log("accepted node " + std::to_string(hello->from.value) + " from " + remote);
        bool known = false;
        std::shared_ptr<Peer> waiting;
        {
          std::lock_guard lock(mu_);
          auto it = peers_.find(hello->from);
          known = it != peers_.end();
          if (known && it->second->link_down) waiting = it->second;
        }
        // The peer is back (a restart): our link to it need not sit out its backoff, which
        // may be seconds by now, before Raft can reach it.
        if (waiting != nullptr) waiting->backoff.cancel();
        if (!known && !hello->from_address.empty() && !stopping_ && callbacks_.on_stranger) {
          callbacks_.on_stranger(hello->from, hello->from_address);
        }
        continue;
      }
      const size_t first = batch.size();
      FrameExtras extras;
      failure = decoder.Decode(payload, &batch, &extras);
      if (!failure.ok()) break;
      if (extras.chunk) {
        if (payload.size() > options_.frame_bytes_max) {
          failure = Status(ErrorCode::kLimitExceeded, "snapshot chunk above the frame limit");
          break;
        }
        failure = TakeChunk(*hello, *extras.chunk, &incoming, &batch);
        if (!failure.ok()) break;
        batch_bytes += kFrameHeaderBytes + payload.size();
        continue;
      }
      failure = CheckMessages(*hello, std::span(batch).subspan(first), payload.size());
      if (!failure.ok()) {
        batch.resize(first);
        break;
      }
      batch_bytes += kFrameHeaderBytes + payload.size();
      if (extras.streamed_bytes != 0) {
        raft::Message announced = std::move(batch.back());
        batch.pop_back();
        failure = StartIncoming(*hello, std::move(announced), extras.streamed_bytes, &incoming);
        if (!failure.ok()) break;
      }
    }
    // Frames before a bad one passed their own checks: they are delivered.
    if (!batch.empty() || batch_bytes != 0) Deliver(hello->from, std::move(batch), batch_bytes);
  }
  handshake_deadline.cancel();
  socket->close(ec);
  inbound_.erase(socket);
  inbound_open_ = inbound_.size();
  const std::string who =
      hello ? "node " + std::to_string(hello->from.value) + " at " + remote : remote;
  if (!failure.ok()) {
    {
      std::lock_guard lock(mu_);
      ++inbound_rejected_;
    }
    Log("closed connection from " + who + ": " + failure.ToString());
  } else {
    Log("connection from " + who + " ended: " + ec.message());
  }
}

}  // namespace synod::transport
