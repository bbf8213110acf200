// Payloads of the Raft records in the WAL (record types and layouts in README.md). Every
// record names its Raft group, so one WAL can serve all the groups of a node. Decoding a
// record that passed its CRC but does not parse is kCorruption: a bug or a format mismatch,
// never a torn write.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "raft/types.h"

namespace synod::storage {

enum class RaftRecordType : uint8_t {
  kHardState = 1,
  kEntries = 2,
  kSnapshot = 3,
};

enum class SnapshotMode : uint8_t {
  // Received from the leader (Ready::snapshot): it replaces the whole log.
  kInstalled = 0,
  // Taken locally at an applied index: entries up to it are dropped, later ones stay.
  kCompacted = 1,
};

// Bytes EncodeEntries spends on one entry at most besides its data.
inline constexpr uint64_t kEntryOverheadBytesMax = 3 * 10 + 1;

std::string EncodeHardState(raft::GroupId group, const raft::HardState& hs);
// REQUIRES: entries non-empty, with consecutive indexes.
std::string EncodeEntries(raft::GroupId group, std::span<const raft::Entry> entries);
std::string EncodeSnapshot(raft::GroupId group, SnapshotMode mode, const raft::Snapshot& snap);

struct HardStateRecord {
  raft::GroupId group;
  raft::HardState hard_state;
};
struct EntriesRecord {
  raft::GroupId group;
  std::vector<raft::Entry> entries;  // non-empty, consecutive indexes
};
struct SnapshotRecord {
  raft::GroupId group;
  SnapshotMode mode = SnapshotMode::kInstalled;
  raft::Snapshot snapshot;
};

Result<HardStateRecord> DecodeHardState(std::string_view payload);
Result<EntriesRecord> DecodeEntries(std::string_view payload);
Result<SnapshotRecord> DecodeSnapshot(std::string_view payload);

}  // namespace synod::storage
