// Membership changes as the application proposes them. One change to the voters is applied
// directly (single-server change, thesis §4.1); several at once go through a joint
// configuration (Raft §6, thesis §4.3) that the leader leaves automatically by default.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "raft/types.h"

namespace synod::raft {

enum class ConfChangeType : uint8_t {
  kAddVoter = 0,
  kAddLearner = 1,  // also demotes a voter (through a joint config)
  kRemoveNode = 2,
};

struct ConfChangeSingle {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node = kNoNode;
  bool operator==(const ConfChangeSingle&) const = default;
};

enum class ConfChangeTransition : uint8_t {
  kAuto = 0,           // simple if possible, else joint with automatic leave
  kJointImplicit = 1,  // always joint, left automatically
  kJointExplicit = 2,  // always joint, left only when the application proposes an empty change
};

struct ConfChange {
  ConfChangeTransition transition = ConfChangeTransition::kAuto;
  std::vector<ConfChangeSingle> changes;  // empty: leave the current joint configuration
  // The application's own bytes, opaque to Raft and replicated with the change (e.g. the new
  // member's addresses, so every member can reach it once the change applies).
  std::string context;
  bool operator==(const ConfChange&) const = default;

  bool LeavesJoint() const { return changes.empty(); }
  // Whether this change enters a joint configuration (and whether it leaves it on its own).
  bool EntersJoint(bool* auto_leave) const;
};

std::string EncodeConfChange(const ConfChange& cc);
std::optional<ConfChange> DecodeConfChange(std::string_view bytes);

}  // namespace synod::raft
