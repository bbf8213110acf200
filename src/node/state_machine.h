// The application a Raft node replicates. The node hands it committed commands in log order
// on the node's event loop thread; it must be deterministic (same commands, same results on
// every member).
#pragma once

#include <any>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "raft/types.h"

namespace synod::node {

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Applies one committed command at `index`. The result goes to the proposer, if it is
  // waiting on this node.
  virtual std::any Apply(raft::LogIndex index, std::string_view command) = 0;
  // Records that `index` was applied without a command for this state machine (the leader's
  // no-op, a membership change), so AppliedIndex moves past it.
  virtual void ApplyEmpty(raft::LogIndex index) = 0;
  // A committed membership change at `index` with the application's context bytes
  // (ConfChange::context) and the configuration that resulted. Called for every change entry
  // in log order, also for entries at or below AppliedIndex() that a restart replays (Raft's
  // configuration is rebuilt from them), so it must be idempotent by index. ApplyEmpty is
  // called after it for entries above AppliedIndex().
  virtual void ApplyConfChange(raft::LogIndex /*index*/, std::string_view /*context*/,
                               const raft::ConfState& /*conf*/) {}
  // The last index whose effects are in the state machine's storage. Entries up to it are
  // not applied again after a restart.
  virtual raft::LogIndex AppliedIndex() const = 0;
  // A durable image of the state at AppliedIndex (its storage is flushed first: the Raft log
  // before it is about to be discarded).
  virtual Result<std::string> Snapshot() = 0;
  // The same in two steps, so that the slow part runs off the node's loop: this call (on the
  // loop, between applies) captures the state at AppliedIndex, durably (a store checkpoint);
  // the job it returns builds the image from that capture on another thread while the node
  // goes on applying. The node runs one job at a time and waits for it before it stops; a
  // Restore may run while a job does. The default does all the work here.
  using SnapshotJob = std::function<Result<std::string>()>;
  virtual Result<SnapshotJob> BeginSnapshot() {
    auto image = Snapshot();
    if (!image.ok()) return image.status();
    return SnapshotJob([image = std::move(image.value())]() mutable -> Result<std::string> {
      return std::move(image);
    });
  }
  // Replaces the whole state with an image taken at `index` on another member.
  virtual Status Restore(std::string_view image, raft::LogIndex index) = 0;
};

}  // namespace synod::node
