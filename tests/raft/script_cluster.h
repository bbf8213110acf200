// The world a scripted test runs in: RawNodes with in-memory storage and one message queue
// that the script drains explicitly. Unlike Harness, every step is visible and separately
// controllable: which node handles its Ready, which messages are delivered or dropped, and
// what each of them looked like. Ready is handled per its ordering contract (ready.h).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "raft/raw_node.h"
#include "raft/storage.h"

namespace synod::raft::testing {

// Per-node configuration chosen by `add-nodes`; kept so `restart` rebuilds the same node.
struct ScriptNodeOptions {
  uint32_t election_timeout_ticks = 10;
  uint32_t heartbeat_interval_ticks = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  bool lease = false;
  uint32_t inflight_msgs_max = 256;
  uint64_t append_bytes_max = 1 << 20;
  uint64_t uncommitted_bytes_max = 64 << 20;
  uint32_t lease_drift_ticks = 2;
  uint64_t seed = 1;
};

// Which queued messages `Deliver` takes: those addressed to `to` (all if empty); messages
// addressed to `drop` are removed without being delivered.
struct DeliverFilter {
  std::set<NodeId> to;
  std::set<NodeId> drop;
};

class ScriptCluster {
 public:
  // Creates node `id`. With `bootstrap` its storage starts from a snapshot at `index` holding
  // that membership (how a group is founded); without, it starts empty and learns everything
  // from a leader (how a node joins).
  void AddNode(NodeId id, const ScriptNodeOptions& opts, const std::optional<ConfState>& bootstrap,
               LogIndex index);
  bool Has(NodeId id) const { return nodes_.count(id) > 0; }
  RawNode& node(NodeId id);
  MemoryStorage& storage(NodeId id);
  std::vector<NodeId> ids() const;

  // Handles one Ready of `id` if there is one, describing it in `out`.
  bool ProcessReady(NodeId id, std::string& out);
  // Delivers the queued messages selected by `f`, in queue order; messages from or to an
  // isolated node are dropped. Messages produced meanwhile wait for the node's next Ready.
  bool Deliver(const DeliverFilter& f, std::string& out);
  // Rounds of: every node handles its Ready, then every queued message is delivered; until
  // nothing is left to do. Returns false if that did not happen within a bound.
  bool Stabilize(std::string& out);

  void Isolate(NodeId id) { isolated_.insert(id); }
  void Heal() { isolated_.clear(); }
  bool Isolated(NodeId id) const { return isolated_.count(id) > 0; }
  // A crash: whatever was not persisted (unhandled Ready, volatile state) is lost; storage is
  // kept and the state machine restarts from the storage snapshot.
  void Restart(NodeId id);
  // Snapshots the node's state machine at its applied index and compacts the log up to it.
  Status Compact(NodeId id);
  std::string RenderQueue() const;
  // The stable log: snapshot, entries, hard state.
  std::string RenderLog(NodeId id);

 private:
  struct Node {
    ScriptNodeOptions opts;
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> raw;
    ConfState conf;  // as of applied_index
    LogIndex applied_index;
  };
  void CreateRaw(NodeId id, Node& n);
  void ApplyCommitted(Node& n, const std::vector<Entry>& ents, std::string& out);

  std::map<NodeId, Node> nodes_;
  std::deque<Message> queue_;
  std::set<NodeId> isolated_;
};

}  // namespace synod::raft::testing
