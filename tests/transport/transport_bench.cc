// Throughput of two transports on loopback: node 1 sends appends to node 2 as fast as a
// bounded window allows (the window keeps the per-peer queue from overflowing, as Raft's
// inflight limit does). Not a test; run by hand:
//   build/tests/transport/transport_bench [messages] [entries_per_message] [entry_bytes]
// Defaults: 200000 messages of 100 entries of 64 bytes.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "transport/transport.h"

namespace synod::transport {
namespace {

int Run(uint64_t messages, size_t entries, size_t entry_bytes) {
  const raft::NodeId n1(1), n2(2);
  constexpr uint64_t kWindow = 4096;   // messages in flight at most
  constexpr uint64_t kSendBatch = 64;  // messages per Send call, like a busy Ready

  std::mutex mu;
  std::condition_variable cv;
  uint64_t received = 0;
  TransportCallbacks rcb;
  rcb.on_message = [&](std::vector<raft::Message> ms) {
    std::lock_guard lock(mu);
    received += ms.size();
    cv.notify_all();
  };
  rcb.on_log = [](std::string_view) {};
  TransportCallbacks scb;
  scb.on_log = [](std::string_view) {};
  TransportOptions o1, o2;
  o1.node_id = n1;
  o2.node_id = n2;
  Transport t1(o1, scb), t2(o2, rcb);
  if (!t1.Start("127.0.0.1:0").ok() || !t2.Start("127.0.0.1:0").ok()) return 1;
  if (!t1.AddPeer(n2, "127.0.0.1:" + std::to_string(t2.listen_port())).ok()) return 1;

  // Entries share one payload, as an append carries entries already in the leader's log.
  const raft::Payload data(std::string(entry_bytes, 'x'));
  raft::Message proto;
  proto.group = raft::GroupId(1);
  proto.from = n1;
  proto.to = n2;
  proto.term = raft::Term(2);
  for (size_t i = 0; i < entries; ++i) {
    proto.entries.push_back(
        raft::Entry{raft::Term(2), raft::LogIndex(i + 1), raft::EntryType::kNormal, data});
  }

  const auto start = std::chrono::steady_clock::now();
  uint64_t sent = 0;
  while (sent < messages) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return sent - received + kSendBatch <= kWindow; });
    }
    std::vector<raft::Message> batch;
    for (uint64_t i = 0; i < kSendBatch && sent < messages; ++i, ++sent) {
      batch.push_back(proto);
      batch.back().index = raft::LogIndex(sent);
    }
    t1.Send(std::move(batch));
  }
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(60), [&] { return received == messages; })) {
      std::fprintf(stderr, "only %llu of %llu messages arrived\n",
                   static_cast<unsigned long long>(received),
                   static_cast<unsigned long long>(messages));
      return 1;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const PeerMetrics m = t1.Metrics().peers.at(0);
  std::printf("messages=%llu entries/msg=%zu entry_bytes=%zu seconds=%.3f\n",
              static_cast<unsigned long long>(messages), entries, entry_bytes, secs);
  std::printf("msgs/s=%.0f entries/s=%.0f wire MB/s=%.1f dropped=%llu\n", messages / secs,
              messages * entries / secs, m.bytes_sent / secs / 1e6,
              static_cast<unsigned long long>(m.msgs_dropped()));
  return 0;
}

}  // namespace
}  // namespace synod::transport

int main(int argc, char** argv) {
  const uint64_t messages = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  const size_t entries = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 100;
  const size_t entry_bytes = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 64;
  return synod::transport::Run(messages, entries, entry_bytes);
}
