// Peer addresses as the server's flags give them: "host:port", with "[v6]:port" for IPv6
// literals. A scheme prefix ("http://", as in etcd's --initial-cluster) is accepted and
// ignored, so the flags' values can be passed through unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace synod::transport {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
};

// kInvalidArgument for anything else. Port 0 is allowed (a listener picks a free port).
Result<HostPort> ParseHostPort(std::string_view address);

}  // namespace synod::transport
