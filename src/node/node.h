// Node: drives one Raft group on a real machine. One event loop thread owns the RawNode and
// performs each Ready in the order ready.h prescribes: persist to the WAL (one fdatasync per
// Ready: proposals that arrive meanwhile share the next one, which is group commit), send,
// apply to the state machine, Advance. Other threads talk to it only through a bounded
// mailbox, so the Raft core never sees a lock and no lock is ever held across an fsync.
//
//   auto node = Node::Open(options, &state_machine);
//   node->Propose(command, [](Result<std::any> r) { ... });   // any thread
//   node->ReadBarrier([](Status s) { ... });  // then read the state machine: linearizable
//   transport: on_message -> node->Deliver(msgs); node options.send -> transport.Send
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "node/state_machine.h"
#include "raft/config.h"
#include "raft/raw_node.h"
#include "raft/types.h"
#include "storage/raft_wal.h"

namespace synod::node {

struct NodeOptions {
  raft::NodeId id;
  raft::GroupId group{1};
  std::string data_dir;  // the WAL lives in data_dir/wal
  // Voters of a new cluster; every member of it must be given the same list. Ignored when the
  // WAL already holds the group.
  std::vector<raft::NodeId> initial_voters;
  // Joins a running cluster (--initial-cluster-state existing): without initial voters the
  // node starts with an empty log and configuration and waits for the leader's snapshot.
  bool join_existing = false;
  std::chrono::milliseconds tick{100};  // the heartbeat interval
  uint32_t election_ticks = 10;         // election timeout = election_ticks * tick
  raft::ReadMode read_mode = raft::ReadMode::kReadIndex;
  // Applied entries between two snapshots of the state machine, and entries kept in the log
  // after one so that slightly slow followers catch up without a snapshot.
  uint64_t snapshot_count = 100000;
  uint64_t snapshot_catchup_entries = 5000;
  // A proposal or read not answered in this time fails with kTimeout.
  std::chrono::milliseconds request_timeout{7000};
  size_t mailbox_items_max = 1 << 17;
  size_t pending_requests_max = 1 << 17;
  uint64_t random_seed = 0;  // 0: derived from the node id and the clock
  storage::RaftWalOptions wal;
  // Sends messages to peers (the transport). Called on the event loop thread; must not block.
  std::function<void(std::vector<raft::Message>)> send;
  // Optional: where the node reports notable events (leader changes, snapshots, recovery).
  std::function<void(std::string_view event)> log;
  // Optional: called once, on the loop thread, when an applied membership change (or an
  // installed snapshot) no longer lists this node. Must not block or stop the node itself.
  std::function<void()> on_removed;
};

// A copy of the node's state, refreshed by the event loop after every step.
struct NodeInfo {
  raft::NodeId id;
  raft::Term term;
  raft::NodeId leader;
  raft::Role role = raft::Role::kFollower;
  raft::LogIndex commit;
  raft::LogIndex applied;
  raft::LogIndex last_index;
  raft::LogIndex snapshot_index;
  uint64_t proposals_committed = 0;
  uint64_t proposals_failed = 0;
  uint64_t readies = 0;
  uint64_t leader_changes = 0;
  raft::ConfState conf_state;  // as applied
  // The leader's view of every member's log (empty on followers).
  std::map<raft::NodeId, raft::ProgressStatus> progress;
};

class Node {
 public:
  using ProposeCallback = std::function<void(Result<std::any>)>;
  using ReadCallback = std::function<void(Status)>;
  // The configuration after the change, or why it was not made.
  using ConfChangeCallback = std::function<void(Result<raft::ConfState>)>;

  // Replays the WAL, restores the state machine if it is behind the log's snapshot, and
  // starts the event loop. kCorruption when the WAL is damaged (the message names the file
  // and offset); the node refuses to start rather than run on bad data.
  static Result<std::unique_ptr<Node>> Open(const NodeOptions& options, StateMachine* sm);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Thread-safe. `done` runs on the event loop thread once the command is applied on this
  // node (with the state machine's result), or with kNotLeader (no leader known),
  // kUnavailable (overloaded or stopping) or kTimeout. Must be short and never block.
  void Propose(std::string command, ProposeCallback done);
  // Thread-safe. `done` runs once this node's state machine reflects every write committed
  // before the call (ReadIndex, thesis §6.4); reading it then is linearizable.
  void ReadBarrier(ReadCallback done);
  // Thread-safe. Proposes a membership change on this node, which must lead (else
  // kNotLeader); `cc.context` reaches StateMachine::ApplyConfChange on every member. `done`
  // runs on the loop thread once the change is applied here, with the resulting
  // configuration; kInvalidArgument when Raft refuses it (not a valid change now),
  // kUnavailable while another change is pending, kTimeout as for Propose.
  void ProposeConfChange(raft::ConfChange cc, ConfChangeCallback done);
  // Thread-safe: messages from peers, and transport feedback.
  void Deliver(std::vector<raft::Message> messages);
  void ReportUnreachable(raft::NodeId peer);
  void ReportSnapshot(raft::NodeId peer, bool success);
  void TransferLeadership(raft::NodeId target);

  NodeInfo Info() const;
  // Stops the event loop; pending requests fail with kUnavailable. Idempotent.
  void Stop();

 private:
  class Loop;
  explicit Node(std::unique_ptr<Loop> loop);
  std::unique_ptr<Loop> loop_;
};

}  // namespace synod::node
