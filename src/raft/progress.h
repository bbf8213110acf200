// The leader's view of each follower's replication (Raft §5.3 nextIndex/matchIndex), with
// the flow control that makes pipelining safe: a bounded window of in-flight appends.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "raft/quorum.h"
#include "raft/raw_node.h"
#include "raft/types.h"

namespace synod::raft {

// A ring buffer of the last index of each in-flight append message.
class Inflights {
 public:
  explicit Inflights(uint32_t capacity) : buf_(capacity) {}
  bool Full() const { return count_ == buf_.size(); }
  uint32_t count() const { return count_; }
  void Add(LogIndex last);
  // Frees every in-flight message whose last index is <= to (it was acknowledged).
  void FreeLE(LogIndex to);
  void FreeFirstOne();
  void Reset() { start_ = count_ = 0; }

 private:
  std::vector<LogIndex> buf_;
  uint32_t start_ = 0;
  uint32_t count_ = 0;
};

struct Progress {
  explicit Progress(uint32_t inflight_msgs_max) : inflights(inflight_msgs_max) {}

  LogIndex match;
  LogIndex next;
  ProgressState state = ProgressState::kProbe;
  // kSnapshot: index of the snapshot in flight.
  LogIndex pending_snapshot;
  // Heard from since the last check-quorum round (thesis §6.2).
  bool recent_active = false;
  // kProbe: one probe is outstanding, send nothing more until it is answered or a heartbeat
  // response shows the follower is alive.
  bool probe_sent = false;
  bool learner = false;
  Inflights inflights;
  // Highest heartbeat round this follower acknowledged (ReadIndex and leases).
  uint64_t acked_round = 0;
  // Leader tick at which that round was sent (lease reads).
  uint64_t acked_tick = 0;

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(LogIndex snapshot_index);
  // An ack for n arrived: returns false if it was stale.
  bool MaybeUpdate(LogIndex n);
  // Pipelining: assume an append up to n will succeed.
  void OptimisticUpdate(LogIndex n) { next = n + 1; }
  // A rejection of the append at `rejected` arrived with the follower's hint; returns false if
  // the rejection is stale.
  bool MaybeDecrTo(LogIndex rejected, LogIndex match_hint);
  bool IsPaused() const;
};

// Membership as the tracker sees it (mirrors ConfState).
struct TrackerConfig {
  JointConfig voters;
  std::vector<NodeId> learners;       // sorted
  std::vector<NodeId> learners_next;  // sorted
  bool auto_leave = false;

  ConfState ToConfState() const;
  bool IsLearner(NodeId id) const;
};

}  // namespace synod::raft
