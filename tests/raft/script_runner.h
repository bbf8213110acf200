// Executes the commands of a scripted protocol test against a ScriptCluster and returns what
// each printed. The command set (README.md lists it with examples):
//
//   add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [prevote=true] [checkquorum=true]
//             [lease=true] [election=10] [heartbeat=1] [inflight=256] [append-bytes=B]
//             [uncommitted-bytes=B] [lease-drift=2] [seed=1]
//   campaign ID | propose ID DATA... | propose-conf-change ID v4 l5 r2 [transition=...]
//   tick ID [N] | tick-all [N] | advance N [ID...] [quiet]
//   read-index ID CTX | transfer-leadership FROM TO
//   process-ready ID...|all | deliver-msgs [ID...] [drop=ID...] | stabilize [quiet] | msgs
//   isolate ID | heal | restart ID | compact ID | report-unreachable FROM TO
//   report-snapshot FROM TO ok|fail
//   status ID | log ID | raft-state
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "script_cluster.h"

namespace synod::raft::testing {

// A command line split into words; `key=value` words are options, the others arguments.
struct ScriptCommand {
  std::string name;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> options;
};

Result<ScriptCommand> ParseCommand(const std::string& line);

class ScriptRunner {
 public:
  // The output of one command; an error means the script itself is wrong (unknown command,
  // bad arguments), not that Raft misbehaved.
  Result<std::string> Run(const std::string& line);

 private:
  Result<std::string> Dispatch(const ScriptCommand& c);
  Result<std::string> AddNodes(const ScriptCommand& c);
  Result<std::string> Propose(const ScriptCommand& c);
  Result<std::string> ProposeConfChange(const ScriptCommand& c);
  Result<std::string> Tick(const ScriptCommand& c);
  Result<std::string> ProcessReady(const ScriptCommand& c);
  Result<std::string> DeliverMsgs(const ScriptCommand& c);
  Result<std::string> Stabilize(const ScriptCommand& c);
  Result<std::string> Advance(const ScriptCommand& c);
  Result<std::string> NodeAction(const ScriptCommand& c);
  Result<std::string> Inspect(const ScriptCommand& c);
  Result<NodeId> NodeArg(const ScriptCommand& c, size_t i) const;
  std::string RaftState();

  ScriptCluster cluster_;
};

}  // namespace synod::raft::testing
