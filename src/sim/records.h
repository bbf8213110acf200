// Payload encodings of the records a host writes to its SimDisk: hard state, a run of entries
// (which replaces the stored suffix from its first index, as Ready's contract says), and a
// snapshot (state machine image plus metadata). Decoding returns nullopt on malformed bytes;
// the disk's checksums make that a simulator bug rather than a fault, and the host treats it
// as corruption all the same.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "raft/types.h"

namespace synod::sim {

std::string EncodeHardState(const raft::HardState& hs);
std::optional<raft::HardState> DecodeHardState(std::string_view bytes);

std::string EncodeEntries(const std::vector<raft::Entry>& entries);
std::optional<std::vector<raft::Entry>> DecodeEntries(std::string_view bytes);

std::string EncodeSnapshot(const raft::Snapshot& snap);
std::optional<raft::Snapshot> DecodeSnapshot(std::string_view bytes);

}  // namespace synod::sim
