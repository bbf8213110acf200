// Outgoing links: one TCP connection per peer, reconnecting with bounded exponential backoff.
// The writer coalesces: every message queued while a write is in flight goes out in the next
// single write, so a busy link makes few, large system calls.
#include <algorithm>
#include <string>
#include <utility>

#include "base/assert.h"
#include "transport/transport_impl.h"

namespace synod::transport {
namespace {

auto NoThrow(asio::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

std::string Ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

void Transport::Impl::ArmDeadline(asio::steady_timer& timer, std::chrono::milliseconds after,
                                  SocketPtr socket) {
  // Closing the socket fails whatever operation is pending on it; re-arming or cancelling the
  // timer aborts the previous wait, whose handler then does nothing.
  timer.expires_after(after);
  timer.async_wait([socket = std::move(socket)](const asio::error_code& ec) {
    asio::error_code ignored;
    if (!ec) socket->close(ignored);
  });
}

asio::awaitable<void> Transport::Impl::PeerLoop(std::shared_ptr<Peer> peer) {
  std::chrono::milliseconds backoff = options_.backoff_initial;
  std::string last_failure;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (peer->removed) co_return;
      peer->link_down = false;  // messages queue again while this attempt runs
    }
    auto socket = std::make_shared<tcp::socket>(io_);
    peer->socket = socket;
    Status status = co_await Connect(peer, socket);
    if (status.ok()) {
      {
        std::lock_guard lock(mu_);
        peer->connected = true;
        ++counters_[peer->id].connects;
      }
      Log("connected to node " + std::to_string(peer->id.value) + " at " + peer->address);
      backoff = options_.backoff_initial;
      last_failure.clear();
      status = co_await WriteLoop(peer, socket);
    }
    asio::error_code ignored;
    socket->close(ignored);
    peer->deadline.cancel();
    {
      std::lock_guard lock(mu_);
      if (peer->removed) co_return;
    }
    // A peer that stays down fails the same way on every attempt: say so once.
    if (status.message() != last_failure) {
      Log("link to node " + std::to_string(peer->id.value) + " at " + peer->address + " down: " +
          status.message() + "; retrying every " + Ms(backoff) + " to " + Ms(options_.backoff_max));
      last_failure = status.message();
    }
    OnLinkDown(*peer);
    peer->backoff.expires_after(backoff);
    co_await peer->backoff.async_wait(NoThrow(ignored));
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

asio::awaitable<Status> Transport::Impl::Connect(std::shared_ptr<Peer> peer, SocketPtr socket) {
  asio::error_code ec;
  tcp::resolver resolver(io_);
  const auto endpoints = co_await resolver.async_resolve(
      peer->host_port.host, std::to_string(peer->host_port.port), NoThrow(ec));
  if (ec) co_return Status(ErrorCode::kUnavailable, "resolve: " + ec.message());

  // One address at a time, each with its own deadline (asio's range connect would reopen a
  // socket the deadline had closed and wait on the next address without one).
  Status connected(ErrorCode::kUnavailable, "connect: no address");
  for (const auto& entry : endpoints) {
    {
      std::lock_guard lock(mu_);
      if (peer->removed) break;
    }
    socket->close(ec);  // async_connect opens it again for the endpoint's protocol
    if (source_address_ && source_address_->is_v4() == entry.endpoint().address().is_v4()) {
      // Bound to the listen address: peers on one host (127.0.0.x) are told apart by source.
      socket->open(entry.endpoint().protocol(), ec);
      if (!ec) socket->bind(tcp::endpoint(*source_address_, 0), ec);
      if (ec) {
        connected = Status(ErrorCode::kUnavailable, "bind to listen address: " + ec.message());
        continue;
      }
    }
    ArmDeadline(peer->deadline, options_.connect_timeout, socket);
    co_await socket->async_connect(entry.endpoint(), NoThrow(ec));
    peer->deadline.cancel();
    if (!ec) {
      connected = Status::Ok();
      break;
    }
    connected = Status(ErrorCode::kUnavailable, "connect: " + ec.message());
  }
  if (!connected.ok()) co_return connected;
  socket->set_option(tcp::no_delay(true), ec);
  if (ec) co_return Status(ErrorCode::kUnavailable, "TCP_NODELAY: " + ec.message());

  std::string hello;
  AppendHandshakeFrame(Handshake{kProtocolVersion, options_.cluster_token, options_.node_id,
                                 peer->id, options_.advertise_address},
                       &hello);
  ArmDeadline(peer->deadline, options_.write_timeout, socket);
  co_await asio::async_write(*socket, asio::buffer(hello), NoThrow(ec));
  peer->deadline.cancel();
  if (ec) co_return Status(ErrorCode::kUnavailable, "handshake write: " + ec.message());
  co_return Status::Ok();
}

asio::awaitable<void> Transport::Impl::WatchClose(std::shared_ptr<Peer> peer, SocketPtr socket) {
  // The peer never writes on a connection we opened: any completion of this read, data or
  // not, means the connection is closed or misused. Waking the writer lets it notice at once
  // instead of at its next write.
  char byte;
  asio::error_code ec;
  co_await socket->async_read_some(asio::buffer(&byte, 1), NoThrow(ec));
  socket->close(ec);
  if (peer->socket == socket) peer->wake.cancel();
}

asio::awaitable<Status> Transport::Impl::WriteLoop(std::shared_ptr<Peer> peer, SocketPtr socket) {
  asio::co_spawn(io_, WatchClose(peer, socket), CheckCoroutineExit);
  const FrameLimits limits{options_.frame_bytes_max, options_.snapshot_frame_bytes_max};
  BatchEncoder encoder;
  std::vector<raft::Message> batch;
  // The image being streamed to this peer: one chunk per write, after whatever messages are
  // due, so heartbeats and votes are never stuck behind a large image.
  std::unique_ptr<SnapshotSender> streaming;
  auto fail = [&](Status why, const std::vector<size_t>& oversized) {
    DropUnwritten(*peer, batch, oversized);
    if (streaming) DropStream(*peer);
    return why;
  };
  std::string buffer;
  asio::error_code ec;
  for (;;) {
    batch.clear();
    std::optional<Clock::time_point> next_due;
    bool removed = false;
    {
      std::lock_guard lock(mu_);
      removed = peer->removed;
      if (!removed) next_due = peer->queue.TakeDue(Clock::now(), &batch);
      peer->writer_idle = batch.empty() && !streaming;
    }
    if (removed) co_return fail(Status(ErrorCode::kUnavailable, "peer removed"), {});
    if (!socket->is_open()) {
      // The messages just taken never reach the socket.
      co_return fail(Status(ErrorCode::kUnavailable, "connection closed by peer"), {});
    }
    if (batch.empty() && !streaming) {
      // Woken by Send, by the first delayed message becoming due, or by WatchClose.
      peer->wake.expires_at(next_due.value_or(Clock::time_point::max()));
      co_await peer->wake.async_wait(NoThrow(ec));
      std::lock_guard lock(mu_);
      peer->writer_idle = false;
      continue;
    }

    buffer.clear();
    std::unique_ptr<SnapshotSender> started = StartStreams(*peer, batch, streaming != nullptr);
    const EncodeResult encoded = encoder.Append(batch, limits, &buffer);
    if (!encoded.oversized.empty()) DropOversized(*peer, batch, encoded.oversized);
    if (started) {
      started->AppendHeader(encoder, &buffer);
      streaming = std::move(started);
    }
    if (streaming) {
      Status read = streaming->AppendNextChunk(encoder, &buffer);
      if (!read.ok()) {
        // The receiver holds part of the image: only closing the connection tells it to
        // throw that away.
        Log("cannot read the snapshot for node " + std::to_string(peer->id.value) + ": " +
            read.ToString());
        co_return fail(Status(ErrorCode::kUnavailable, "snapshot read failed"), encoded.oversized);
      }
    }
    if (buffer.empty()) continue;
    ArmDeadline(peer->deadline, options_.write_timeout, socket);
    co_await asio::async_write(*socket, asio::buffer(buffer), NoThrow(ec));
    peer->deadline.cancel();
    if (ec) co_return fail(Status(ErrorCode::kUnavailable, "write: " + ec.message()), encoded.oversized);
    OnWritten(*peer, batch, encoded.oversized, buffer.size());
    if (streaming && streaming->done()) {
      OnStreamWritten(*peer, *streaming);
      streaming.reset();
    }
  }
}

std::unique_ptr<SnapshotSender> Transport::Impl::StartStreams(Peer& peer,
                                                             std::vector<raft::Message>& batch,
                                                             bool streaming) {
  if (!callbacks_.open_snapshot_source) return nullptr;
  std::unique_ptr<SnapshotSender> started;
  std::erase_if(batch, [&](raft::Message& m) {
    if (m.type != raft::MessageType::kSnapshot || !m.snapshot) return false;
    auto source = callbacks_.open_snapshot_source(m);
    if (source.ok() && source.value() == nullptr) return false;  // inline
    Status why = source.ok() ? Status::Ok() : source.status();
    // Raft sends a follower one snapshot at a time (§7); a second one while an image is
    // still on its way is stale.
    if (why.ok() && (streaming || started)) {
      why = Status(ErrorCode::kUnavailable, "another snapshot is being sent");
    } else if (why.ok() && source.value()->size() == 0) {
      why = Status(ErrorCode::kInvalidArgument, "empty snapshot image");
    }
    if (!why.ok()) {
      Log("dropped a snapshot for node " + std::to_string(peer.id.value) + ": " + why.ToString());
      std::lock_guard lock(mu_);
      ++counters_[peer.id].dropped_disconnected;
      NoteDropLocked(peer.id, /*snapshot=*/true, /*unreachable=*/false);
      return true;
    }
    Log("streaming a snapshot of " + std::to_string(source.value()->size()) + " bytes at index " +
        std::to_string(m.snapshot->metadata.index.value) + " to node " +
        std::to_string(peer.id.value));
    started = std::make_unique<SnapshotSender>(std::move(m), std::move(source.value()),
                                               options_.snapshot_chunk_bytes);
    return true;
  });
  return started;
}

void Transport::Impl::DropStream(Peer& peer) {
  std::lock_guard lock(mu_);
  ++counters_[peer.id].dropped_disconnected;
  NoteDropLocked(peer.id, /*snapshot=*/true, /*unreachable=*/true);
}

void Transport::Impl::OnStreamWritten(Peer& peer, const SnapshotSender& sent) {
  {
    std::lock_guard lock(mu_);
    ++counters_[peer.id].msgs_sent;
  }
  Log("sent a snapshot of " + std::to_string(sent.size()) + " bytes to node " +
      std::to_string(peer.id.value));
  if (!stopping_ && callbacks_.on_snapshot_status) callbacks_.on_snapshot_status(peer.id, true);
}

void Transport::Impl::DropOversized(Peer& peer, const std::vector<raft::Message>& batch,
                                    const std::vector<size_t>& oversized) {
  {
    std::lock_guard lock(mu_);
    for (size_t i : oversized) {
      ++counters_[peer.id].dropped_oversized;
      NoteDropLocked(peer.id, batch[i].type == raft::MessageType::kSnapshot, true);
    }
  }
  Log("dropped " + std::to_string(oversized.size()) + " message(s) to node " +
      std::to_string(peer.id.value) + " above the frame limit");
}

void Transport::Impl::DropUnwritten(Peer& peer, const std::vector<raft::Message>& batch,
                                    const std::vector<size_t>& oversized) {
  std::lock_guard lock(mu_);
  size_t skip = 0;  // oversized is sorted: they were reported already
  for (size_t i = 0; i < batch.size(); ++i) {
    if (skip < oversized.size() && oversized[skip] == i) {
      ++skip;
      continue;
    }
    ++counters_[peer.id].dropped_disconnected;
    NoteDropLocked(peer.id, batch[i].type == raft::MessageType::kSnapshot, true);
  }
}

void Transport::Impl::OnWritten(Peer& peer, const std::vector<raft::Message>& batch,
                                const std::vector<size_t>& oversized, size_t bytes) {
  // A write may hold only a chunk of a streamed snapshot.
  SYNOD_ASSERT(oversized.size() <= batch.size(), "more oversized messages than messages");
  size_t snapshots = 0;
  {
    std::lock_guard lock(mu_);
    PeerCounters& c = counters_[peer.id];
    c.msgs_sent += batch.size() - oversized.size();
    c.bytes_sent += bytes;
  }
  size_t skip = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (skip < oversized.size() && oversized[skip] == i) {
      ++skip;
      continue;
    }
    if (batch[i].type == raft::MessageType::kSnapshot) ++snapshots;
  }
  // Written to the socket is as far as a transport can vouch for: if the peer then fails to
  // apply it, Raft learns from the peer's next response, as etcd's raft expects.
  for (size_t i = 0; i < snapshots && !stopping_; ++i) {
    if (callbacks_.on_snapshot_status) callbacks_.on_snapshot_status(peer.id, true);
  }
}

void Transport::Impl::OnLinkDown(Peer& peer) {
  std::lock_guard lock(mu_);
  peer.connected = false;
  peer.link_down = true;
  PeerCounters& c = counters_[peer.id];
  ++c.link_failures;
  for (const raft::Message& m : peer.queue.TakeAll()) {
    ++c.dropped_disconnected;
    NoteDropLocked(peer.id, m.type == raft::MessageType::kSnapshot, true);
  }
  // Reported even with nothing queued: the leader should stop pipelining to this peer.
  NoteDropLocked(peer.id, /*snapshot=*/false, /*unreachable=*/true);
}

}  // namespace synod::transport
