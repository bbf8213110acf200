// The simulated world of one run: the event queue, the network, the node hosts, the trace and
// the safety checker, and the plumbing between them (peer messages through the Network, client
// requests and replies over their own links). Actors that act on the cluster (workload, fault
// injector, operator) live outside and reach it through this class.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "base/random.h"
#include "sim/event_queue.h"
#include "sim/host.h"
#include "sim/network.h"
#include "sim/options.h"
#include "sim/safety_checker.h"
#include "sim/trace.h"

namespace synod::sim {

class Cluster {
 public:
  static constexpr size_t kTraceKeep = 200;
  static constexpr size_t kPendingEventsMax = 4'000'000;

  Cluster(const SimOptions& options, FILE* live_trace);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const SimOptions& options() const { return options_; }
  EventQueue& queue() { return queue_; }
  Trace& trace() { return trace_; }
  SafetyChecker& checker() { return checker_; }
  Network& network() { return network_; }
  uint32_t nodes() const { return options_.nodes; }
  NodeHost& host(uint32_t slot);
  const NodeHost& host(uint32_t slot) const;

  // Bootstraps the initial voters and starts every process.
  void StartAll();

  // Handlers for the actors; set before the run starts.
  std::function<void(const ClientReply&)> on_reply;
  std::function<void(uint64_t client, uint64_t request)> on_proposed;
  std::function<void(raft::NodeId voter)> on_vote_granted;
  std::function<void(raft::NodeId leader)> on_became_leader;

  // Client links: latency only, no partitions; a down node never answers.
  void SendClientRequest(uint32_t slot, ClientRequest req);

  // Process control, traced. Restart returns false when the node refuses to start.
  void Crash(uint32_t slot, Random& rng);
  bool Restart(uint32_t slot);

  // The running leader with the highest term, or null.
  NodeHost* Leader();
  uint32_t LostCount() const;
  uint64_t messages_sent() const { return messages_sent_; }
  uint64_t messages_delivered() const { return messages_delivered_; }

  // Fingerprint of every node's state (state machine, log, disk) for determinism checks.
  uint64_t StateHash() const;

 private:
  void SendRaft(raft::Message m);
  struct InFlightMessage {
    raft::Message msg;
    uint64_t sender_incarnation;
  };
  void DeliverRaft(const std::shared_ptr<const InFlightMessage>& m);
  // Tells the sender's transport whether a message arrived: it learns of a lost connection
  // or a finished snapshot stream about one network latency later.
  void ReportToSender(const InFlightMessage& m, bool delivered);
  void SendClientReply(const ClientReply& reply);
  Micros ClientLatency();

  SimOptions options_;
  Random rng_;  // client link latencies
  EventQueue queue_;
  Trace trace_;
  SafetyChecker checker_;
  Network network_;
  std::vector<std::unique_ptr<NodeHost>> hosts_;  // index = slot - 1
  uint64_t messages_sent_ = 0;
  uint64_t messages_delivered_ = 0;
};

}  // namespace synod::sim
