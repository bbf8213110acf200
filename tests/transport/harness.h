// Real transports on 127.0.0.1 for the socket tests. Every port comes from binding port 0.
// Waits are condition-variable waits with deadlines: this layer runs real sockets and
// threads, so there is no simulated time to advance.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "test_messages.h"
#include "transport/transport.h"

namespace synod::transport::test {

using namespace std::chrono_literals;

inline constexpr std::chrono::milliseconds kWaitMax = 5s;

inline TransportOptions TestOptions(raft::NodeId id) {
  TransportOptions o;
  o.node_id = id;
  o.cluster_token = "transport-test";
  o.backoff_initial = 10ms;
  o.backoff_max = 100ms;
  o.handshake_timeout = 1s;
  o.fault_seed = 1;
  return o;
}

struct Streaming {
  bool send = false;     // set open_snapshot_source
  bool receive = false;  // set open_snapshot_sink
  uint64_t sink_fails_at = UINT64_MAX;  // the sink refuses bytes beyond this many
};

// A transport plus everything its callbacks reported.
class TestNode {
 public:
  explicit TestNode(raft::NodeId id) : TestNode(TestOptions(id)) {}
  explicit TestNode(TransportOptions options, Streaming streaming = {}) : id_(options.node_id) {
    TransportCallbacks cb;
    if (streaming.send) {
      cb.open_snapshot_source = [](const raft::Message& m) -> Result<std::unique_ptr<SnapshotSource>> {
        if (m.snapshot->data.empty()) return std::unique_ptr<SnapshotSource>();
        return std::unique_ptr<SnapshotSource>(std::make_unique<MemorySource>(m.snapshot->data));
      };
    }
    if (streaming.receive) {
      cb.open_snapshot_sink = [fail_at = streaming.sink_fails_at](const raft::Message&, uint64_t) {
        return Result<std::unique_ptr<SnapshotSink>>(
            std::unique_ptr<SnapshotSink>(std::make_unique<MemorySink>(fail_at)));
      };
    }
    cb.on_message = [this](std::vector<raft::Message> ms) {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      batches_ += 1;
      for (raft::Message& m : ms) received_[m.from].push_back(std::move(m));
      cv_.notify_all();
    };
    cb.on_unreachable = [this](raft::NodeId peer) {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      ++unreachable_[peer];
      cv_.notify_all();
    };
    cb.on_snapshot_status = [this](raft::NodeId peer, bool ok) {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      snapshot_status_.emplace_back(peer, ok);
      cv_.notify_all();
    };
    cb.on_stranger = [this](raft::NodeId id, std::string address) {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      strangers_.emplace_back(id, std::move(address));
      cv_.notify_all();
    };
    cb.on_log = [this](std::string_view line) {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      logs_.emplace_back(line);
      cv_.notify_all();
    };
    transport_ = std::make_unique<Transport>(std::move(options), std::move(cb));
  }

  // Listens on 127.0.0.1:port (0: any free port).
  void Start(uint16_t port = 0) {
    Status s = transport_->Start("127.0.0.1:" + std::to_string(port));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }
  uint16_t port() const { return transport_->listen_port(); }
  raft::NodeId id() const { return id_; }
  Transport& transport() { return *transport_; }

  void Connect(TestNode& peer) {
    Status s = transport_->AddPeer(peer.id(), peer.address());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Waits until `pred` holds; false on timeout. `pred` runs with the lock held.
  template <typename Pred>
  bool WaitFor(Pred pred, std::chrono::milliseconds timeout = kWaitMax) {
    // Callbacks notify; predicates on metrics have no callback, so the wait also re-checks
    // every few milliseconds.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock<std::recursive_mutex> lock(mu_);
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      cv_.wait_for(lock, 2ms);
    }
    return true;
  }
  bool WaitReceived(raft::NodeId from, size_t n, std::chrono::milliseconds t = kWaitMax) {
    return WaitFor([&] { return received_[from].size() >= n; }, t);
  }
  bool WaitLog(const std::string& needle, std::chrono::milliseconds t = kWaitMax) {
    return WaitFor(
        [&] {
          for (const std::string& l : logs_) {
            if (l.find(needle) != std::string::npos) return true;
          }
          return false;
        },
        t);
  }

  std::vector<raft::Message> Received(raft::NodeId from) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return received_[from];
  }
  size_t ReceivedCount(raft::NodeId from) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return received_[from].size();
  }
  uint64_t Unreachable(raft::NodeId peer) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return unreachable_[peer];
  }
  std::vector<std::pair<raft::NodeId, bool>> SnapshotStatus() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return snapshot_status_;
  }
  // Every on_stranger report: (node, the address it named).
  std::vector<std::pair<raft::NodeId, std::string>> Strangers() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return strangers_;
  }
  uint64_t Batches() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return batches_;
  }
  PeerMetrics Metrics(raft::NodeId peer) {
    for (const PeerMetrics& m : transport_->Metrics().peers) {
      if (m.peer == peer) return m;
    }
    return PeerMetrics{};
  }
  void Stop() { transport_->Stop(); }

 private:
  const raft::NodeId id_;
  // Recursive: WaitFor predicates may call the accessors below, which lock too.
  std::recursive_mutex mu_;
  std::condition_variable_any cv_;
  std::map<raft::NodeId, std::vector<raft::Message>> received_;
  std::map<raft::NodeId, uint64_t> unreachable_;
  std::vector<std::pair<raft::NodeId, bool>> snapshot_status_;
  std::vector<std::string> logs_;
  std::vector<std::pair<raft::NodeId, std::string>> strangers_;
  uint64_t batches_ = 0;
  std::unique_ptr<Transport> transport_;
};

// Sends `n` appends with indexes first..first+n-1 in Send calls of varying size.
inline void SendSequence(TestNode& from, raft::NodeId to, uint64_t first, size_t n,
                         size_t entries = 1) {
  std::vector<raft::Message> batch;
  for (size_t i = 0; i < n; ++i) {
    batch.push_back(MakeAppend(from.id(), to, first + i, entries));
    if (batch.size() == 1 + i % 37 || i + 1 == n) {
      from.transport().Send(std::move(batch));
      batch.clear();
    }
  }
}

inline void ExpectSequence(const std::vector<raft::Message>& got, uint64_t first, size_t n) {
  ASSERT_EQ(got.size(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(got[i].index, raft::LogIndex(first + i)) << "out of order at " << i;
  }
}

// A port nothing listens on (bound, then released).
inline uint16_t UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  SYNOD_ASSERT(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "bind");
  socklen_t len = sizeof addr;
  SYNOD_ASSERT(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0, "getsockname");
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A plain blocking client socket, for speaking bad protocol at a transport.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }

  bool Write(const std::string& bytes) {
    size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += static_cast<size_t>(n);
    }
    return true;
  }

  // True once the other side closed the connection (EOF or reset) within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout = kWaitMax) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[256];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;  // the transport never sends on accepted connections
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace synod::transport::test
