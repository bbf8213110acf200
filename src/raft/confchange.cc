#include "raft/confchange.h"

#include <cstring>

namespace synod::raft {

bool ConfChange::EntersJoint(bool* auto_leave) const {
  // A single change never needs a joint config (thesis §4.1); several, or an explicit
  // request, do (thesis §4.3).
  const bool joint = transition != ConfChangeTransition::kAuto || changes.size() > 1;
  if (auto_leave != nullptr) *auto_leave = transition != ConfChangeTransition::kJointExplicit;
  return joint && !changes.empty();
}

// Encoding: version byte, transition byte, u32 count, then per change a type byte and a u64
// node id, all little-endian; version 2 appends the context's bytes after the changes (a change
// without context keeps encoding as version 1). Small, fixed, and checked on decode.
namespace {
constexpr uint8_t kVersion = 1;
constexpr uint8_t kVersionWithContext = 2;

void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}
}  // namespace

std::string EncodeConfChange(const ConfChange& cc) {
  std::string out;
  out.push_back(static_cast<char>(cc.context.empty() ? kVersion : kVersionWithContext));
  out.push_back(static_cast<char>(cc.transition));
  const uint32_t n = static_cast<uint32_t>(cc.changes.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  for (const auto& c : cc.changes) {
    out.push_back(static_cast<char>(c.type));
    PutU64(out, c.node.value);
  }
  out += cc.context;
  return out;
}

std::optional<ConfChange> DecodeConfChange(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 6 || (p[0] != kVersion && p[0] != kVersionWithContext) || p[1] > 2) {
    return std::nullopt;
  }
  ConfChange cc;
  cc.transition = static_cast<ConfChangeTransition>(p[1]);
  const uint32_t n = uint32_t(p[2]) | uint32_t(p[3]) << 8 | uint32_t(p[4]) << 16 |
                     uint32_t(p[5]) << 24;
  const size_t changes_end = 6 + size_t(n) * 9;
  if (p[0] == kVersion ? bytes.size() != changes_end : bytes.size() <= changes_end) {
    return std::nullopt;
  }
  for (uint32_t i = 0; i < n; ++i) {
    const unsigned char* c = p + 6 + size_t(i) * 9;
    if (c[0] > 2) return std::nullopt;
    cc.changes.push_back({static_cast<ConfChangeType>(c[0]), NodeId(GetU64(c + 1))});
  }
  cc.context = std::string(bytes.substr(changes_end));
  return cc;
}

}  // namespace synod::raft
