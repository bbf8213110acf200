#include "node/command_header.h"

namespace synod::node {
namespace {
constexpr uint8_t kVersion = 1;

void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
}  // namespace

std::string EncodeCommand(const CommandHeader& h, std::string_view command) {
  std::string out;
  out.reserve(kCommandHeaderBytes + command.size());
  out.push_back(static_cast<char>(kVersion));
  PutU64(out, h.node);
  PutU64(out, h.seq);
  out.append(command);
  return out;
}

std::optional<CommandHeader> DecodeCommand(std::string_view bytes, std::string_view* command) {
  if (bytes.size() < kCommandHeaderBytes || static_cast<uint8_t>(bytes[0]) != kVersion) {
    return std::nullopt;
  }
  CommandHeader h{GetU64(bytes.data() + 1), GetU64(bytes.data() + 9)};
  *command = bytes.substr(kCommandHeaderBytes);
  return h;
}

}  // namespace synod::node
