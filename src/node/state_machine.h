// The application a Raft node replicates. The node hands it committed commands in log order
// on the node's event loop thread; it must be deterministic (same commands, same results on
// every member).
#pragma once

#include <any>
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
  // The last index whose effects are in the state machine's storage. Entries up to it are
  // not applied again after a restart.
  virtual raft::LogIndex AppliedIndex() const = 0;
  // A durable image of the state at AppliedIndex (its storage is flushed first: the Raft log
  // before it is about to be discarded).
  virtual Result<std::string> Snapshot() = 0;
  // Replaces the whole state with an image taken at `index` on another member.
  virtual Status Restore(std::string_view image, raft::LogIndex index) = 0;
};

}  // namespace synod::node
