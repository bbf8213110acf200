// Internals of Transport, shared by transport.cc (API, Send, metrics), link_out.cc (outgoing
// links) and link_in.cc (accepted connections). Includes asio: never include it from a
// public header.
//
// Locking: mu_ guards everything marked "guarded" below. Socket objects, timers and the
// inbound set belong to the io thread alone. Callbacks are invoked on the io thread with mu_
// released.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "transport/address.h"
#include "transport/codec.h"
#include "transport/fault_points.h"
#include "transport/peer_queue.h"
#include "transport/snapshot_stream.h"
#include "transport/transport.h"

namespace synod::transport {

using asio::ip::tcp;
using SocketPtr = std::shared_ptr<tcp::socket>;

// Per-peer counters, kept across RemovePeer/AddPeer and for nodes that only connect to us.
struct PeerCounters {
  uint64_t msgs_sent = 0, bytes_sent = 0, msgs_received = 0, bytes_received = 0;
  uint64_t dropped_overflow = 0, dropped_disconnected = 0, dropped_oversized = 0;
  uint64_t dropped_fault = 0, discarded_fault = 0;
  uint64_t connects = 0, link_failures = 0;
};

// One outgoing link. Lives as long as its coroutine or the peers_ map holds it.
struct Peer {
  Peer(asio::io_context& io, raft::NodeId id_in, std::string address_in, HostPort hp,
       const TransportOptions& o)
      : id(id_in),
        address(std::move(address_in)),
        host_port(std::move(hp)),
        queue(o.peer_queue_msgs_max, o.peer_queue_bytes_max),
        wake(io),
        backoff(io),
        deadline(io) {}

  const raft::NodeId id;
  const std::string address;
  const HostPort host_port;

  // Guarded by Impl::mu_.
  PeerQueue queue;
  // While the link is down between attempts, messages are dropped at once rather than queued
  // for a peer that may never come back.
  bool link_down = false;
  bool connected = false;
  bool removed = false;
  // The writer waits on `wake` with an empty queue; Send must wake it.
  bool writer_idle = false;

  // io thread only.
  SocketPtr socket;  // the current connection, replaced on each attempt
  asio::steady_timer wake;
  asio::steady_timer backoff;
  asio::steady_timer deadline;  // bounds the connect and each write
};

// Completion of every detached coroutine: errors are values, so an exception is a bug.
void CheckCoroutineExit(std::exception_ptr e);

class Transport::Impl {
 public:
  Impl(TransportOptions options, TransportCallbacks callbacks);
  ~Impl();

  Status Start(std::string_view listen_address);
  uint16_t listen_port() const { return port_.load(); }
  void Stop();
  Status AddPeer(raft::NodeId id, std::string_view address);
  void RemovePeer(raft::NodeId id);
  void Send(std::vector<raft::Message> messages);
  void SetFaults(raft::NodeId peer, const FaultConfig& config);
  void ClearFaults();
  TransportMetrics Metrics() const;

 private:
  // transport.cc
  void Log(const std::string& line);
  PeerFaults& FaultsLocked(raft::NodeId peer);
  // By value: the copy in peers_ is erased inside.
  void RemovePeerLocked(std::shared_ptr<Peer> peer);
  // A dropped message's consequences, recorded under mu_ and reported on the io thread.
  void NoteDropLocked(raft::NodeId peer, bool snapshot, bool unreachable);
  void DeliverNotices();
  void CloseAll();

  // link_out.cc
  asio::awaitable<void> PeerLoop(std::shared_ptr<Peer> peer);
  asio::awaitable<Status> Connect(std::shared_ptr<Peer> peer, SocketPtr socket);
  asio::awaitable<Status> WriteLoop(std::shared_ptr<Peer> peer, SocketPtr socket);
  asio::awaitable<void> WatchClose(std::shared_ptr<Peer> peer, SocketPtr socket);
  void OnLinkDown(Peer& peer);
  void DropOversized(Peer& peer, const std::vector<raft::Message>& batch,
                     const std::vector<size_t>& oversized);
  void DropUnwritten(Peer& peer, const std::vector<raft::Message>& batch,
                     const std::vector<size_t>& oversized);
  void OnWritten(Peer& peer, const std::vector<raft::Message>& batch,
                 const std::vector<size_t>& oversized, size_t bytes);
  // Takes the kSnapshot messages whose images are to be streamed out of `batch`; returns the
  // sender of the one to start, if any (`streaming`: one is under way already).
  std::unique_ptr<SnapshotSender> StartStreams(Peer& peer, std::vector<raft::Message>& batch,
                                               bool streaming);
  void DropStream(Peer& peer);  // the image under way will not arrive
  void OnStreamWritten(Peer& peer, const SnapshotSender& sent);
  void ArmDeadline(asio::steady_timer& timer, std::chrono::milliseconds after, SocketPtr socket);

  // link_in.cc
  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> InboundLoop(SocketPtr socket);
  Status CheckHandshake(const Handshake& h) const;
  Status CheckMessages(const Handshake& h, std::span<const raft::Message> messages,
                       size_t frame_bytes) const;
  void Deliver(raft::NodeId from, std::vector<raft::Message> messages, size_t bytes);
  // A streamed snapshot's announcing message and its chunks (`batch`: what to deliver).
  Status StartIncoming(const Handshake& h, raft::Message m, uint64_t bytes,
                       std::optional<SnapshotReceiver>* incoming);
  Status TakeChunk(const Handshake& h, const SnapshotChunkView& chunk,
                   std::optional<SnapshotReceiver>* incoming, std::vector<raft::Message>* batch);

  const TransportOptions options_;
  const TransportCallbacks callbacks_;
  asio::io_context io_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::atomic<uint16_t> port_{0};
  // The listener's address when it is a specific one (not 0.0.0.0 or ::): outgoing links bind
  // to it, so a peer (and a firewall rule) sees a connection come from the address this node
  // advertises. Set by Start before the io thread runs.
  std::optional<asio::ip::address> source_address_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;  // set by Start, read by Stop on the owner's thread

  mutable std::mutex mu_;
  std::map<raft::NodeId, std::shared_ptr<Peer>> peers_;         // guarded
  std::map<raft::NodeId, PeerFaults> faults_;                   // guarded
  std::map<raft::NodeId, PeerCounters> counters_;               // guarded
  std::set<raft::NodeId> unreachable_pending_;                  // guarded
  std::map<raft::NodeId, uint64_t> snapshot_failures_pending_;  // guarded
  bool notices_scheduled_ = false;                              // guarded
  uint64_t dropped_unknown_peer_ = 0;                           // guarded
  uint64_t inbound_accepted_ = 0, inbound_rejected_ = 0;        // guarded

  std::set<SocketPtr> inbound_;  // io thread only
  std::atomic<uint64_t> inbound_open_{0};
};

}  // namespace synod::transport
