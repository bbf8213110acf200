// Every command a node proposes is prefixed with who proposed it, so the proposer recognizes
// its own command when it is applied, whichever member's log it went through (a follower's
// proposal is forwarded to the leader):  [u8 version][u64 node id][u64 sequence][command].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synod::node {

struct CommandHeader {
  uint64_t node = 0;
  uint64_t seq = 0;
};

inline constexpr size_t kCommandHeaderBytes = 17;

std::string EncodeCommand(const CommandHeader& h, std::string_view command);
// nullopt when the bytes are too short or of an unknown version.
std::optional<CommandHeader> DecodeCommand(std::string_view bytes, std::string_view* command);

}  // namespace synod::node
