// Transport's API side: options, peers, the Send path, fault points, notices and metrics.
#include "transport/transport.h"

#include <cstdio>
#include <utility>

#include "base/assert.h"
#include "transport/transport_impl.h"

namespace synod::transport {
namespace {

void CheckOptions(const TransportOptions& o) {
  SYNOD_ASSERT(o.node_id != raft::kNoNode, "transport needs this node's id");
  SYNOD_ASSERT(o.cluster_token.size() <= kClusterTokenBytesMax, "cluster token too long");
  SYNOD_ASSERT(o.advertise_address.size() <= kFromAddressBytesMax, "advertise address too long");
  SYNOD_ASSERT(o.frame_bytes_max >= 1024, "frame_bytes_max too small for any batch");
  SYNOD_ASSERT(o.snapshot_frame_bytes_max >= o.frame_bytes_max,
               "snapshot frames must be allowed at least the ordinary frame size");
  SYNOD_ASSERT(o.snapshot_frame_bytes_max <= kFrameLengthMax, "snapshot limit above u32 length");
  // A chunk frame adds a few bytes of headers to its chunk and must be an ordinary frame.
  SYNOD_ASSERT(o.snapshot_chunk_bytes > 0 && o.snapshot_chunk_bytes + 64 <= o.frame_bytes_max,
               "snapshot chunks must fit in ordinary frames");
  SYNOD_ASSERT(o.peer_queue_msgs_max > 0 && o.peer_queue_bytes_max > 0, "empty peer queue");
  SYNOD_ASSERT(o.inbound_connections_max > 0, "no inbound connections allowed");
  SYNOD_ASSERT(o.backoff_initial.count() > 0 && o.backoff_initial <= o.backoff_max,
               "backoff must be positive and initial <= max");
}

}  // namespace

Transport::Impl::Impl(TransportOptions options, TransportCallbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {
  CheckOptions(options_);
}

Transport::Impl::~Impl() {
  Stop();
}

void Transport::Impl::Log(const std::string& line) {
  const std::string text = "transport node " + std::to_string(options_.node_id.value) + ": " + line;
  if (callbacks_.on_log) {
    callbacks_.on_log(text);
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
}

Status Transport::Impl::Start(std::string_view listen_address) {
  SYNOD_ASSERT(!started_ && !stopping_, "Transport::Start called twice or after Stop");
  Result<HostPort> hp = ParseHostPort(listen_address);
  if (!hp.ok()) return hp.status();
  asio::error_code ec;
  tcp::resolver resolver(io_);
  // Resolving here, once, on the caller's thread is fine: it only happens at startup.
  const auto results = resolver.resolve(hp.value().host, std::to_string(hp.value().port),
                                        tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "listen address " + std::string(listen_address) + ": " + ec.message());
  }
  const tcp::endpoint endpoint = *results.begin();
  auto fail = [&](const char* step) {
    return Status(ErrorCode::kIoError,
                  std::string(step) + " " + std::string(listen_address) + ": " + ec.message());
  };
  if (acceptor_.open(endpoint.protocol(), ec); ec) return fail("open");
  // A restarted node must get its port back while old connections linger in TIME_WAIT.
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec); ec) return fail("reuse");
  if (acceptor_.bind(endpoint, ec); ec) return fail("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return fail("local endpoint of");
  if (!endpoint.address().is_unspecified()) source_address_ = endpoint.address();

  started_ = true;
  work_.emplace(io_.get_executor());
  asio::co_spawn(io_, AcceptLoop(), CheckCoroutineExit);
  thread_ = std::thread([this] { io_.run(); });
  Log("listening on " + hp.value().host + ":" + std::to_string(port_.load()));
  return Status::Ok();
}

void Transport::Impl::Stop() {
  if (stopping_.exchange(true)) return;
  SYNOD_ASSERT(std::this_thread::get_id() != thread_.get_id(),
               "Transport::Stop called from a transport callback");
  // Stopping the loop abandons every pending operation at once; their coroutine frames are
  // destroyed with the io_context. Nothing waits for the network to say goodbye.
  io_.stop();
  if (thread_.joinable()) thread_.join();
  CloseAll();
}

void Transport::Impl::CloseAll() {
  // Runs after the io thread has ended, so the io-thread-only state is ours.
  asio::error_code ignored;
  acceptor_.close(ignored);
  for (const SocketPtr& s : inbound_) s->close(ignored);
  inbound_.clear();
  std::lock_guard lock(mu_);
  for (auto& [id, peer] : peers_) {
    peer->removed = true;
    if (peer->socket) peer->socket->close(ignored);
  }
  peers_.clear();
}

Status Transport::Impl::AddPeer(raft::NodeId id, std::string_view address) {
  SYNOD_ASSERT(id != raft::kNoNode && id != options_.node_id, "AddPeer of none or self");
  Result<HostPort> hp = ParseHostPort(address);
  if (!hp.ok()) return hp.status();
  if (hp.value().port == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "peer address " + std::string(address) + " has port 0");
  }
  if (stopping_) return Status(ErrorCode::kUnavailable, "transport stopped");
  auto peer =
      std::make_shared<Peer>(io_, id, std::string(address), std::move(hp.value()), options_);
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(id);
    if (it != peers_.end() && it->second->address == address) return Status::Ok();
    if (it != peers_.end()) RemovePeerLocked(it->second);
    peers_[id] = peer;
    counters_[id];  // the peer appears in metrics from now on
  }
  asio::co_spawn(io_, PeerLoop(std::move(peer)), CheckCoroutineExit);
  return Status::Ok();
}

void Transport::Impl::RemovePeer(raft::NodeId id) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  RemovePeerLocked(it->second);
}

void Transport::Impl::RemovePeerLocked(std::shared_ptr<Peer> peer) {
  peer->removed = true;
  // A removed peer is no longer in the configuration: its queue goes without notices.
  (void)peer->queue.TakeAll();
  peers_.erase(peer->id);
  asio::post(io_, [peer] {
    asio::error_code ignored;
    if (peer->socket) peer->socket->close(ignored);
    peer->wake.cancel();
    peer->backoff.cancel();
    peer->deadline.cancel();
  });
}

void Transport::Impl::Send(std::vector<raft::Message> messages) {
  if (stopping_) return;
  const Clock::time_point now = Clock::now();
  std::vector<std::shared_ptr<Peer>> to_wake;
  {
    std::lock_guard lock(mu_);
    for (raft::Message& m : messages) {
      SYNOD_ASSERT(m.to != raft::kNoNode && m.to != options_.node_id,
                   "Send of a message addressed to no one or to this node");
      // Receivers hold a connection to the sender of its handshake (link_in.cc).
      SYNOD_ASSERT(m.from == options_.node_id, "Send of a message from another node");
      const raft::NodeId to = m.to;
      const bool snapshot = m.type == raft::MessageType::kSnapshot;
      auto it = peers_.find(to);
      if (it == peers_.end()) {
        ++dropped_unknown_peer_;
        NoteDropLocked(to, snapshot, /*unreachable=*/true);
        continue;
      }
      Peer& peer = *it->second;
      PeerCounters& counters = counters_[to];
      if (peer.link_down) {
        ++counters.dropped_disconnected;
        NoteDropLocked(to, snapshot, /*unreachable=*/true);
        continue;
      }
      Clock::time_point due = now;
      if (auto f = faults_.find(to); f != faults_.end() && !f->second.config().IsNone()) {
        const PeerFaults::Decision d = f->second.NextOutgoing();
        if (d.drop) {
          // A lossy network does not announce its losses: no unreachable notice.
          ++counters.dropped_fault;
          NoteDropLocked(to, snapshot, /*unreachable=*/false);
          continue;
        }
        due += d.delay;
      }
      if (!peer.queue.Push(std::move(m), due)) {
        ++counters.dropped_overflow;
        NoteDropLocked(to, snapshot, /*unreachable=*/true);
        continue;
      }
      if (peer.writer_idle) {
        peer.writer_idle = false;
        to_wake.push_back(it->second);
      }
    }
  }
  // The wake timer is the io thread's: cancel it there.
  for (auto& peer : to_wake) asio::post(io_, [peer] { peer->wake.cancel(); });
}

void Transport::Impl::NoteDropLocked(raft::NodeId peer, bool snapshot, bool unreachable) {
  if (unreachable) unreachable_pending_.insert(peer);
  // Raft holds a follower in snapshot state until told how the snapshot went (§7), so every
  // dropped snapshot is reported, whatever dropped it.
  if (snapshot) ++snapshot_failures_pending_[peer];
  if (!notices_scheduled_) {
    notices_scheduled_ = true;
    asio::post(io_, [this] { DeliverNotices(); });
  }
}

void Transport::Impl::DeliverNotices() {
  std::set<raft::NodeId> unreachable;
  std::map<raft::NodeId, uint64_t> snapshot_failures;
  {
    std::lock_guard lock(mu_);
    unreachable.swap(unreachable_pending_);
    snapshot_failures.swap(snapshot_failures_pending_);
    notices_scheduled_ = false;
  }
  for (raft::NodeId id : unreachable) {
    if (stopping_) return;
    if (callbacks_.on_unreachable) callbacks_.on_unreachable(id);
  }
  for (auto [id, count] : snapshot_failures) {
    for (uint64_t i = 0; i < count; ++i) {
      if (stopping_) return;
      if (callbacks_.on_snapshot_status) callbacks_.on_snapshot_status(id, false);
    }
  }
}

void Transport::Impl::SetFaults(raft::NodeId peer, const FaultConfig& config) {
  std::lock_guard lock(mu_);
  auto it = faults_.try_emplace(peer, options_.fault_seed, peer).first;
  it->second.Set(config);
}

void Transport::Impl::ClearFaults() {
  std::lock_guard lock(mu_);
  // Keeping the entries keeps each peer's random stream where it was: a test that switches
  // faults off and on again stays reproducible from its seed.
  for (auto& [id, faults] : faults_) faults.Set(FaultConfig{});
}

TransportMetrics Transport::Impl::Metrics() const {
  TransportMetrics out;
  std::lock_guard lock(mu_);
  for (const auto& [id, c] : counters_) {
    PeerMetrics m;
    m.peer = id;
    m.msgs_sent = c.msgs_sent;
    m.bytes_sent = c.bytes_sent;
    m.msgs_received = c.msgs_received;
    m.bytes_received = c.bytes_received;
    m.msgs_dropped_overflow = c.dropped_overflow;
    m.msgs_dropped_disconnected = c.dropped_disconnected;
    m.msgs_dropped_oversized = c.dropped_oversized;
    m.msgs_dropped_fault = c.dropped_fault;
    m.msgs_discarded_fault = c.discarded_fault;
    m.connects = c.connects;
    m.link_failures = c.link_failures;
    if (auto it = peers_.find(id); it != peers_.end()) {
      m.address = it->second->address;
      m.connected = it->second->connected;
      m.queue_msgs = it->second->queue.msgs();
      m.queue_bytes = it->second->queue.bytes();
    }
    out.peers.push_back(std::move(m));
  }
  out.inbound_accepted = inbound_accepted_;
  out.inbound_rejected = inbound_rejected_;
  out.inbound_open = inbound_open_.load();
  out.msgs_dropped_unknown_peer = dropped_unknown_peer_;
  return out;
}

void CheckCoroutineExit(std::exception_ptr e) {
  if (!e) return;
  // The transport reports errors as values; an exception escaping a coroutine is a bug.
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "transport coroutine threw: %s\n", ex.what());
  } catch (...) {
    std::fprintf(stderr, "transport coroutine threw a non-std exception\n");
  }
  SYNOD_UNREACHABLE("exception escaped a transport coroutine");
}

// The public class forwards to Impl.
Transport::Transport(TransportOptions options, TransportCallbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(callbacks))) {}
Transport::~Transport() = default;
Status Transport::Start(std::string_view listen_address) {
  return impl_->Start(listen_address);
}
uint16_t Transport::listen_port() const {
  return impl_->listen_port();
}
void Transport::Stop() {
  impl_->Stop();
}
Status Transport::AddPeer(raft::NodeId peer, std::string_view address) {
  return impl_->AddPeer(peer, address);
}
void Transport::RemovePeer(raft::NodeId peer) {
  impl_->RemovePeer(peer);
}
void Transport::Send(std::vector<raft::Message> messages) {
  impl_->Send(std::move(messages));
}
void Transport::SetFaults(raft::NodeId peer, const FaultConfig& config) {
  impl_->SetFaults(peer, config);
}
void Transport::ClearFaults() {
  impl_->ClearFaults();
}
TransportMetrics Transport::Metrics() const {
  return impl_->Metrics();
}

}  // namespace synod::transport
