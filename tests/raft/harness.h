// An in-memory cluster of RawNodes for tests and benchmarks: every node has a MemoryStorage,
// messages go into a queue the test controls, and Ready is handled exactly per its contract
// (persist, send, apply, Advance). No time, no threads: the test decides every step.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/raw_node.h"
#include "raft/storage.h"

namespace synod::raft::testing {

struct HarnessOptions {
  uint64_t seed = 1;
  uint32_t election_timeout_ticks = 10;
  uint32_t heartbeat_interval_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  ReadMode read_mode = ReadMode::kReadIndex;
  bool forward_proposals = false;
  InjectedBugs bugs;
};

class Harness {
 public:
  // Creates nodes 1..voters as voters (and learners ids after them) with empty logs.
  Harness(int voters, int learners, HarnessOptions opts = {});

  RawNode& node(NodeId id) { return *nodes_.at(id).raw; }
  MemoryStorage& storage(NodeId id) { return *nodes_.at(id).storage; }
  const std::vector<Entry>& applied(NodeId id) const { return nodes_.at(id).applied; }
  std::vector<ReadState>& reads(NodeId id) { return nodes_.at(id).reads; }
  std::vector<NodeId> ids() const;

  // Handles every node's Ready once; returns true if any node had one.
  bool ProcessReadies();
  // Delivers every queued message (and what they cause) until the cluster is quiet or
  // max_rounds passed. Messages to isolated nodes or cut links are dropped.
  void Stabilize(int max_rounds = 1000);
  void TickAll(int n = 1);
  // Elects `id` by campaigning and stabilizing.
  void Elect(NodeId id);

  void Isolate(NodeId id) { isolated_.insert(id); }
  void Heal() { isolated_.clear(); cut_.clear(); }
  void Cut(NodeId a, NodeId b) { cut_.insert({a, b}); cut_.insert({b, a}); }
  // Crash and restart: volatile state is lost, storage (all of it was synced) stays.
  void Restart(NodeId id);
  // Adds a new empty node (for membership tests); it learns the config from the leader.
  void AddNode(NodeId id);

  std::deque<Message>& queue() { return queue_; }
  // Optional hook: sees every message before delivery; return false to drop it.
  std::function<bool(const Message&)> filter;
  // Snapshot taken every N applied entries per node (0 = never).
  uint64_t snapshot_every = 0;

 private:
  struct Node {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> raw;
    std::vector<Entry> applied;
    std::vector<ReadState> reads;
    ConfState conf;
    LogIndex applied_index;
  };
  void CreateRaw(NodeId id, Node& n);
  void HandleReady(NodeId id, Node& n);
  bool Deliverable(const Message& m) const;

  HarnessOptions opts_;
  std::map<NodeId, Node> nodes_;
  std::deque<Message> queue_;
  std::set<NodeId> isolated_;
  std::set<std::pair<NodeId, NodeId>> cut_;
};

}  // namespace synod::raft::testing
