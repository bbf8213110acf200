// The gossip datagram encoding (src/server/gossip_codec.h): round trips, and refusal of
// truncated, oversized or malformed datagrams.
#include "server/gossip_codec.h"

#include <gtest/gtest.h>

namespace synod::server {
namespace {

using gossip::Incarnation;
using gossip::MemberId;
using gossip::MemberState;

gossip::Message Sample() {
  gossip::Message m;
  m.type = gossip::MessageType::kPingReq;
  m.from = MemberId(0x1234567890abcdefULL);
  m.to = MemberId(7);
  m.seq = 42;
  m.target = MemberId(9);
  m.relay_timeout_ticks = 11;
  auto meta = std::make_shared<gossip::MemberMeta>(
      gossip::MemberMeta{"127.0.0.1:2380", "zone-a", {"raft", "storage"}});
  m.updates.push_back({MemberState::kSuspect, MemberId(9), Incarnation(3), MemberId(7), nullptr});
  m.state.push_back({MemberState::kAlive, MemberId(5), Incarnation(1), MemberId(5), meta});
  m.state.push_back({MemberState::kLeft, MemberId(6), Incarnation(2), MemberId(6), nullptr});
  return m;
}

TEST(GossipCodec, RoundTrip) {
  const gossip::Message m = Sample();
  auto d = DecodeGossip(EncodeGossip(m));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const gossip::Message& g = d.value();
  EXPECT_EQ(g.type, m.type);
  EXPECT_EQ(g.from, m.from);
  EXPECT_EQ(g.to, m.to);
  EXPECT_EQ(g.seq, 42u);
  EXPECT_EQ(g.target, m.target);
  EXPECT_EQ(g.relay_timeout_ticks, 11u);
  ASSERT_EQ(g.updates.size(), 1u);
  EXPECT_EQ(g.updates[0].state, MemberState::kSuspect);
  EXPECT_EQ(g.updates[0].incarnation, Incarnation(3));
  EXPECT_EQ(g.updates[0].meta, nullptr);
  ASSERT_EQ(g.state.size(), 2u);
  ASSERT_NE(g.state[0].meta, nullptr);
  EXPECT_EQ(*g.state[0].meta, *m.state[0].meta);
  EXPECT_EQ(g.state[1].state, MemberState::kLeft);
}

TEST(GossipCodec, RejectsTruncatedAndGarbage) {
  const std::string bytes = EncodeGossip(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeGossip(std::string_view(bytes.data(), n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeGossip(bytes + "x").ok());  // trailing bytes
  std::string bad_version = bytes;
  bad_version[0] = 9;
  EXPECT_FALSE(DecodeGossip(bad_version).ok());
  std::string bad_type = bytes;
  bad_type[1] = 100;
  EXPECT_FALSE(DecodeGossip(bad_type).ok());
  EXPECT_FALSE(DecodeGossip(std::string(kGossipDatagramBytesMax + 1, '\0')).ok());
}

}  // namespace
}  // namespace synod::server
