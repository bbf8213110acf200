// NodeHost: one simulated server process. It owns a raft::RawNode, the node's MemoryStorage,
// its KV state machine and its pending client requests, and drives them exactly as the Ready
// contract (raft/ready.h) prescribes:
//   1. write snapshot, entries and hard state to the SimDisk; when must_sync, start a sync
//      and wait for it (simulated time passes; messages keep arriving and are stepped);
//   2. make the write visible through MemoryStorage;
//   3. send the Ready's messages (never before the sync completed);
//   4. apply the snapshot and committed entries, answer clients, serve read states;
//   5. Advance(), and only then ask for the next Ready.
//
// What survives a crash: the disk (minus what was not synced), the local clock and the
// checker's record of what this node promised (votes and append acks). Everything else is
// rebuilt on restart from the disk: storage replay, state machine from the snapshot,
// RawNode::Create with applied = snapshot index. A disk that fails replay makes the node
// refuse to start: it stays down for good, rather than run on bad data.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/random.h"
#include "raft/config.h"
#include "raft/raw_node.h"
#include "raft/storage.h"
#include "sim/client_protocol.h"
#include "sim/clock.h"
#include "sim/disk.h"
#include "sim/event_queue.h"
#include "sim/kv.h"
#include "sim/safety_checker.h"
#include "sim/trace.h"

namespace synod::sim {

struct HostOptions {
  raft::Config raft;  // template; id, storage, applied and random_seed are filled per start
  Micros tick_interval_us = 10 * kMillis;
  Micros sync_latency_min_us = 100;
  Micros sync_latency_max_us = 2 * kMillis;
  // Take a local snapshot (and rewrite the disk) every this many applied entries, keeping this
  // many entries behind it for followers that are only a little behind.
  uint64_t snapshot_interval_entries = 200;
  uint64_t compaction_keep_entries = 20;
  // Inputs queued while the process is paused; beyond this they are dropped, like a full
  // socket buffer.
  size_t paused_inbox_max = 4096;
};

// The world as a host sees it.
struct HostWorld {
  EventQueue* queue = nullptr;
  Trace* trace = nullptr;
  SafetyChecker* checker = nullptr;
  std::function<void(raft::Message)> send;
  std::function<void(const ClientReply&)> reply;
  // A proposal for (client, request) entered the log at some node (so it may take effect).
  std::function<void(uint64_t client, uint64_t request)> proposed;
  // This node just sent a vote grant (a fault injector may crash it now).
  std::function<void(raft::NodeId voter)> vote_granted;
  // This node just became leader (a fault injector may crash it soon).
  std::function<void(raft::NodeId leader)> became_leader;
};

enum class ProcessState : uint8_t { kDown, kRunning, kPaused, kLost };

class NodeHost {
 public:
  NodeHost(raft::NodeId id, HostOptions options, HostWorld world, LocalClock clock, uint64_t seed);
  ~NodeHost();

  // Writes the initial state of a bootstrapping voter: a snapshot holding the first
  // configuration. REQUIRES: the disk is empty.
  void Bootstrap(const raft::ConfState& conf);

  // Process lifecycle. Start fails (and the node is lost for good) when the disk is corrupt.
  Status Start();
  void Crash(Random& rng, double unsynced_survive_probability);
  void Pause();
  void Resume();
  void JumpClock(Micros delta_us);
  bool FlipBit(Random& rng);

  // Inputs.
  // False when the node is down (or its paused inbox is full): the message is lost.
  bool Deliver(raft::Message m);
  void HandleClient(ClientRequest req);
  // Transport feedback for a message this node sent while in `incarnation`: a snapshot was
  // delivered or lost, or a peer was unreachable (raft::RawNode::ReportSnapshot and
  // ReportUnreachable; without it a leader waits for a lost snapshot forever).
  void ReportDelivery(uint64_t incarnation, raft::NodeId to, raft::MessageType type,
                      bool delivered);
  // Admin actions, at this node (meaningful at the leader).
  raft::ProposeResult ProposeConfChange(const raft::ConfChange& cc);
  void TransferLeadership(raft::NodeId target);
  // Proposes a probe command (liveness phase); true if it entered the log.
  bool ProposeProbe(uint64_t probe_id);

  raft::NodeId id() const { return id_; }
  ProcessState state() const { return state_; }
  bool running() const { return state_ == ProcessState::kRunning; }
  bool is_up() const { return state_ == ProcessState::kRunning || state_ == ProcessState::kPaused; }
  bool lost() const { return state_ == ProcessState::kLost; }
  // A bit flip was put on this disk: the node will refuse its next start.
  bool disk_damaged() const { return disk_damaged_; }
  bool IsLeader() const;
  raft::Term term() const;
  raft::NodeId leader() const;
  raft::LogIndex applied() const { return applied_; }
  const raft::ConfState& conf() const { return conf_; }
  const KvStateMachine& kv() const { return kv_; }
  const SimDisk& disk() const { return disk_; }
  const LocalClock& clock() const { return clock_; }
  // The durable log (what storage holds); null when down.
  const raft::MemoryStorage* storage() const { return storage_.get(); }
  // Largest probe id applied here.
  uint64_t probe_applied() const { return probe_applied_; }
  uint64_t applied_entries() const { return applied_entries_; }
  uint64_t incarnation() const { return incarnation_; }

 private:
  struct InFlight {
    raft::Ready ready;
    uint64_t sync_mark = 0;
  };
  // What this node promised to others; checked against what it recovers after a crash.
  struct Promises {
    raft::Term vote_term;
    raft::NodeId vote_for = raft::kNoNode;
    raft::LogIndex log_index;  // acked "my log matches the leader's through here"
    raft::Term log_term;       // the term of my entry at log_index when I acked
  };

  // Runs `fn` now if running, queues it if paused, drops it if down.
  bool Input(std::function<void()> fn);
  void CatchUpTicks();
  void ScheduleTick();
  void OnTickTimer(uint64_t generation);
  void Drive();
  void AfterEvent();
  void StartReady(raft::Ready rd);
  void OnSyncDone(uint64_t incarnation, uint64_t mark);
  void FinishReady();
  void Persist(const raft::Ready& rd);
  void MakeVisible(const raft::Ready& rd);
  void SendAll(std::vector<raft::Message>& msgs);
  // Sends the messages the Ready contract lets go before persisting; leaves the rest in msgs.
  void SendBeforePersist(std::vector<raft::Message>& msgs);
  void HandleClientNow(const ClientRequest& req);
  void ApplySnapshot(const raft::Snapshot& snap);
  void ApplyEntry(const raft::Entry& e);
  void ApplyCommand(const raft::Entry& e);
  void ServeReads();
  void ServeRead(const ClientRequest& req);
  void MaybeTakeSnapshot();
  void RewriteDisk();
  void CheckLeaderCompleteness(const raft::Ready& rd);
  void CheckCommitRule(const raft::Ready& rd);
  Status Recover();
  void CheckPromises();
  void Reply(const ClientRequest& req, ReplyStatus status, raft::NodeId hint, CommandResult result);
  void ResetVolatile();
  uint64_t Now() const { return static_cast<uint64_t>(world_.queue->now()); }

  const raft::NodeId id_;
  HostOptions options_;
  HostWorld world_;
  LocalClock clock_;
  Random rng_;  // sync latencies and raft seeds of each incarnation
  SimDisk disk_;
  TickSchedule ticks_;
  ProcessState state_ = ProcessState::kDown;
  uint64_t incarnation_ = 0;
  uint64_t tick_generation_ = 0;
  Promises promises_;
  bool disk_damaged_ = false;

  // Volatile: lost on crash.
  std::unique_ptr<raft::MemoryStorage> storage_;
  std::unique_ptr<raft::RawNode> raw_;
  KvStateMachine kv_;
  raft::LogIndex applied_;
  raft::ConfState conf_;
  std::optional<InFlight> in_flight_;
  bool sync_done_ = false;
  std::deque<std::function<void()>> paused_inbox_;
  // Proposed requests by client (a client has one outstanding), answered when applied.
  std::map<uint64_t, ClientRequest> pending_writes_;
  struct PendingRead {
    ClientRequest req;
    raft::LogIndex committed_before;  // highest committed index when the read arrived
  };
  std::map<uint64_t, PendingRead> pending_reads_;  // by read context, oldest first
  std::multimap<raft::LogIndex, ClientRequest> reads_awaiting_apply_;
  uint64_t next_read_seq_ = 0;
  raft::Role last_role_ = raft::Role::kFollower;
  raft::Term last_term_;
  // For the commitment rule check: the term this node last led and its commit index then.
  raft::Term led_term_;
  raft::LogIndex led_start_commit_;
  uint64_t probe_applied_ = 0;
  uint64_t applied_entries_ = 0;
};

}  // namespace synod::sim
