// The wire form of gossip messages (src/gossip): one message per UDP datagram, a fixed-layout
// little-endian encoding with a version byte. Decoding checks every length against the
// datagram and the limits below, so a malformed or hostile datagram is rejected, never trusted.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "gossip/types.h"

namespace synod::server {

inline constexpr uint8_t kGossipWireVersion = 1;
// A datagram above this is refused by the decoder and never produced by the encoder for
// piggybacked messages (push-pull state of a large cluster may exceed it and is then cut).
inline constexpr size_t kGossipDatagramBytesMax = 65000;
inline constexpr size_t kGossipUpdatesMax = 4096;
inline constexpr size_t kGossipStringBytesMax = 256;
inline constexpr size_t kGossipRolesMax = 16;

std::string EncodeGossip(const gossip::Message& m);
Result<gossip::Message> DecodeGossip(std::string_view bytes);

}  // namespace synod::server
