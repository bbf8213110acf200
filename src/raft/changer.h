// Computes the membership that results from a ConfChange, or says why it is not allowed.
// Pure functions: the Raft state machine applies the result to its tracker.
#pragma once

#include "base/status.h"
#include "raft/confchange.h"
#include "raft/progress.h"

namespace synod::raft {

TrackerConfig TrackerConfigFrom(const ConfState& cs);

// Rules (thesis §4.1 and §4.3):
// - leaving a joint config requires being in one; learners_next become learners;
// - entering a joint config requires not being in one; the old voters become the outgoing
//   half and the changes apply to the incoming half;
// - a simple change may alter at most one voter, so any majority of the old config overlaps
//   any majority of the new one;
// - the incoming voter set may never become empty.
Result<TrackerConfig> ApplyConfChangeTo(const TrackerConfig& current, const ConfChange& cc);

}  // namespace synod::raft
