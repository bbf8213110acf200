// Deterministic, compact text for the Raft core's types, as scripted tests print them:
//
//   1->2 Append term=1 log=1/5 commit=5 entries=[1/6 EntryNormal "x"]
//   2/7 EntryConfChange v4 l5 r2 transition=explicit
//   voters=(1,2,3) outgoing=(1,2) learners=(4) autoleave
//
// Entries print as term/index; a message prints only the fields its type uses.
#pragma once

#include <string>
#include <vector>

#include "raft/confchange.h"
#include "raft/raw_node.h"
#include "raft/ready.h"
#include "raft/types.h"

namespace synod::raft::testing {

std::string RenderIds(const std::vector<NodeId>& ids);  // "(1,2,3)"
std::string RenderConfState(const ConfState& cs);
std::string RenderConfChange(const ConfChange& cc);       // "v4 l5 r2", "leave-joint"
std::string RenderEntry(const Entry& e);
std::string RenderMessage(const Message& m);
std::string RenderHardState(const HardState& hs);
std::string RenderSnapshot(const Snapshot& s);
// One line per field that is set, each prefixed by `indent`.
std::string RenderReady(const Ready& rd, const std::string& indent);
std::string RenderStatus(const NodeStatus& s);
const char* ProgressStateName(ProgressState s);

}  // namespace synod::raft::testing
