#include "transport/address.h"

#include <charconv>

namespace synod::transport {

Result<HostPort> ParseHostPort(std::string_view address) {
  const std::string original(address);
  auto invalid = [&](const char* why) {
    return Status(ErrorCode::kInvalidArgument, "address '" + original + "': " + why);
  };
  if (const size_t scheme = address.find("://"); scheme != std::string_view::npos) {
    address.remove_prefix(scheme + 3);
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return invalid("expected host:port");
  std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return invalid("IPv6 hosts need brackets");
  }
  if (host.empty()) return invalid("empty host");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return invalid("bad port");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace synod::transport
