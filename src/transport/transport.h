// The peer transport: carries Raft messages between the nodes of a cluster over TCP.
//
// The node's event loop hands it the messages of each Ready (Send) and gets back what peers
// sent (on_message). Raft tolerates loss, so the transport never blocks and never retries a
// message: when a peer cannot take more (link down, queue full, message too large) the
// message is dropped and the node is told through on_unreachable / on_snapshot_status, which
// it forwards to RawNode::ReportUnreachable / ReportSnapshot.
//
// Threads: one io thread per Transport runs every socket. Send, AddPeer, RemovePeer,
// SetFaults and Metrics are thread-safe and never wait for the network. All callbacks run on
// the io thread, one at a time, and never while the transport holds its lock; they should
// hand work to the node's loop and return. No callback runs after Stop() returns.
// README.md describes the wire format, limits and fault points.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "raft/types.h"
#include "transport/fault_points.h"
#include "transport/snapshot_stream.h"

namespace synod::transport {

struct TransportOptions {
  raft::NodeId node_id = raft::kNoNode;  // required; incoming messages must be addressed to it
  // Sent and checked in every handshake: nodes of different clusters never exchange messages.
  std::string cluster_token;
  // Sent in every handshake (at most kFromAddressBytesMax): the address peers reach this node
  // at, as AddPeer takes it. Empty: not sent.
  std::string advertise_address;

  // Largest frame payload of ordinary messages, written or accepted. Raft's own message size
  // limit should stay well below it.
  size_t frame_bytes_max = 16u << 20;
  // Largest frame payload carrying one kSnapshot message with its image inline (no
  // open_snapshot_source). REQUIRES: >= frame_bytes_max.
  size_t snapshot_frame_bytes_max = 1u << 30;
  // Streamed images (snapshot_stream.h) go in chunks of this many bytes.
  // REQUIRES: 0 < snapshot_chunk_bytes < frame_bytes_max (a chunk frame is ordinary).
  size_t snapshot_chunk_bytes = 1u << 20;
  // A streamed image announced larger than this closes the connection.
  uint64_t streamed_snapshot_bytes_max = uint64_t{1} << 40;
  // Per-peer bound of the outgoing queue (messages not yet handed to the socket).
  size_t peer_queue_msgs_max = 16384;
  size_t peer_queue_bytes_max = 64u << 20;
  // Accepted connections beyond this are closed at once.
  size_t inbound_connections_max = 256;

  std::chrono::milliseconds connect_timeout{2000};
  // A write (and the handshake write) that does not finish in time fails the link: a peer
  // that stopped reading looks like one that is gone.
  std::chrono::milliseconds write_timeout{10000};
  // An accepted connection must present its handshake within this time.
  std::chrono::milliseconds handshake_timeout{5000};
  // Reconnect delays: doubling from initial up to max after each failed attempt.
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2000};

  uint64_t fault_seed = 0;  // seeds the fault points (fault_points.h)
};

struct TransportCallbacks {
  // The messages decoded from one read of one connection, in the order they were sent.
  std::function<void(std::vector<raft::Message>)> on_message;
  // A message to the peer was dropped: link down, queue full or message too large.
  std::function<void(raft::NodeId)> on_unreachable;
  // A kSnapshot message to the peer was fully written to its socket (true) or dropped (false).
  std::function<void(raft::NodeId, bool)> on_snapshot_status;
  // A node that is not a peer connected with a valid handshake naming its address: the owner
  // may AddPeer it, so that Raft's answers to it are not dropped (a member whose configuration
  // is behind does not know a member added meanwhile, which may already lead). Optional.
  std::function<void(raft::NodeId, std::string)> on_stranger;
  // Streamed snapshots (snapshot_stream.h): where images to send are read from and received
  // ones written to. Without open_snapshot_source every image travels inline; without
  // open_snapshot_sink a streamed image is received and thrown away (and logged).
  OpenSnapshotSource open_snapshot_source;
  OpenSnapshotSink open_snapshot_sink;
  // Connection events and protocol errors, one line each. Default: stderr.
  std::function<void(std::string_view)> on_log;
};

struct PeerMetrics {
  raft::NodeId peer;
  std::string address;  // empty for a node that only connected to us
  bool connected = false;
  uint64_t msgs_sent = 0;   // fully written to the socket
  uint64_t bytes_sent = 0;  // frame bytes, headers included
  uint64_t msgs_received = 0;
  uint64_t bytes_received = 0;
  uint64_t msgs_dropped_overflow = 0;      // queue full
  uint64_t msgs_dropped_disconnected = 0;  // link down, or failed while written
  uint64_t msgs_dropped_oversized = 0;     // above the frame limit
  uint64_t msgs_dropped_fault = 0;         // fault points, outgoing
  uint64_t msgs_discarded_fault = 0;       // fault points, incoming (peer blocked)
  uint64_t connects = 0;                   // successful outgoing connections
  uint64_t link_failures = 0;              // failed connects and broken links
  uint64_t queue_msgs = 0;
  uint64_t queue_bytes = 0;

  uint64_t msgs_dropped() const {
    return msgs_dropped_overflow + msgs_dropped_disconnected + msgs_dropped_oversized +
           msgs_dropped_fault;
  }
};

struct TransportMetrics {
  std::vector<PeerMetrics> peers;  // sorted by id
  uint64_t inbound_accepted = 0;
  uint64_t inbound_rejected = 0;  // closed for a protocol error: bad handshake, length, CRC...
  uint64_t inbound_open = 0;
  uint64_t msgs_dropped_unknown_peer = 0;  // Send to a node never added
};

class Transport {
 public:
  Transport(TransportOptions options, TransportCallbacks callbacks);
  ~Transport();  // Stop()s
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Listens on "host:port" (port 0 picks a free one, see listen_port()) and starts the io
  // thread. Peers may be added before or after. REQUIRES: called once.
  Status Start(std::string_view listen_address);
  uint16_t listen_port() const;
  // Closes every connection and joins the io thread; queued messages are discarded silently.
  void Stop();

  // Starts (or, for a new address, restarts) the outgoing link to `peer`.
  Status AddPeer(raft::NodeId peer, std::string_view address);
  // Closes the outgoing link and discards its queue. Counters are kept.
  void RemovePeer(raft::NodeId peer);

  // Queues each message for its `to` peer. Never blocks.
  // REQUIRES: m.from is this node, m.to another node.
  void Send(std::vector<raft::Message> messages);

  // Fault points toward/from one peer; replaces the previous config of that peer.
  void SetFaults(raft::NodeId peer, const FaultConfig& config);
  void ClearFaults();

  TransportMetrics Metrics() const;

  class Impl;  // transport_impl.h

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace synod::transport
