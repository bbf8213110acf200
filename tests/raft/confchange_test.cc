// ConfChange (confchange.h): which changes enter a joint configuration, and the byte encoding
// carried in log entries, which must round-trip and refuse anything malformed.
#include <gtest/gtest.h>

#include "raft/confchange.h"

namespace synod::raft {
namespace {

ConfChange Change(ConfChangeTransition t, std::vector<ConfChangeSingle> changes) {
  return ConfChange{t, std::move(changes)};
}

const ConfChangeSingle kAdd4{ConfChangeType::kAddVoter, NodeId(4)};
const ConfChangeSingle kLearner5{ConfChangeType::kAddLearner, NodeId(5)};
const ConfChangeSingle kRemoveHuge{ConfChangeType::kRemoveNode, NodeId(0x0102030405060708ULL)};

TEST(ConfChange, EntersJoint) {
  bool auto_leave = false;
  EXPECT_FALSE(Change(ConfChangeTransition::kAuto, {kAdd4}).EntersJoint(&auto_leave));
  EXPECT_TRUE(Change(ConfChangeTransition::kAuto, {kAdd4, kLearner5}).EntersJoint(&auto_leave));
  EXPECT_TRUE(auto_leave);
  EXPECT_TRUE(Change(ConfChangeTransition::kJointImplicit, {kAdd4}).EntersJoint(&auto_leave));
  EXPECT_TRUE(auto_leave);
  EXPECT_TRUE(Change(ConfChangeTransition::kJointExplicit, {kAdd4}).EntersJoint(&auto_leave));
  EXPECT_FALSE(auto_leave);
  EXPECT_TRUE(Change(ConfChangeTransition::kJointExplicit, {kAdd4}).EntersJoint(nullptr));
  // No changes: the change that leaves a joint configuration.
  const ConfChange leave = Change(ConfChangeTransition::kJointExplicit, {});
  EXPECT_TRUE(leave.LeavesJoint());
  EXPECT_FALSE(leave.EntersJoint(nullptr));
}

TEST(ConfChange, EncodingRoundTrips) {
  const std::vector<ConfChange> cases = {
      Change(ConfChangeTransition::kAuto, {}),
      Change(ConfChangeTransition::kAuto, {kAdd4}),
      Change(ConfChangeTransition::kJointImplicit, {kAdd4, kLearner5, kRemoveHuge}),
      Change(ConfChangeTransition::kJointExplicit, {kRemoveHuge}),
  };
  for (const ConfChange& cc : cases) {
    const std::string bytes = EncodeConfChange(cc);
    EXPECT_EQ(bytes.size(), 6 + 9 * cc.changes.size());
    auto back = DecodeConfChange(bytes);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, cc);
  }
}

TEST(ConfChange, EncodingIsLittleEndianAndVersioned) {
  const std::string b =
      EncodeConfChange(Change(ConfChangeTransition::kJointExplicit, {kRemoveHuge}));
  const std::string want("\x01\x02\x01\x00\x00\x00\x02\x08\x07\x06\x05\x04\x03\x02\x01", 15);
  EXPECT_EQ(b, want);
}

TEST(ConfChange, ContextRoundTripsAsVersionTwo) {
  ConfChange cc = Change(ConfChangeTransition::kAuto, {kLearner5});
  cc.context = std::string("member\0urls", 11);
  const std::string bytes = EncodeConfChange(cc);
  EXPECT_EQ(bytes[0], 2);
  EXPECT_EQ(bytes.size(), 6 + 9 + cc.context.size());
  auto back = DecodeConfChange(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, cc);
  // Version 1 carries no context: trailing bytes stay an error there.
  std::string v1 = bytes;
  v1[0] = 1;
  EXPECT_FALSE(DecodeConfChange(v1).has_value());
}

TEST(ConfChange, DecodeRefusesMalformedBytes) {
  const std::string good =
      EncodeConfChange(Change(ConfChangeTransition::kAuto, {kAdd4, kLearner5}));
  ASSERT_TRUE(DecodeConfChange(good).has_value());
  auto with = [&](size_t at, char c) {
    std::string b = good;
    b[at] = c;
    return b;
  };
  EXPECT_FALSE(DecodeConfChange("").has_value());
  EXPECT_FALSE(DecodeConfChange(good.substr(0, 5)).has_value());          // short header
  EXPECT_FALSE(DecodeConfChange(with(0, 2)).has_value());                 // unknown version
  EXPECT_FALSE(DecodeConfChange(with(1, 3)).has_value());                 // unknown transition
  EXPECT_FALSE(DecodeConfChange(with(6, 3)).has_value());                 // unknown change type
  EXPECT_FALSE(DecodeConfChange(good.substr(0, good.size() - 1)).has_value());  // truncated
  EXPECT_FALSE(DecodeConfChange(good + "x").has_value());                 // trailing bytes
  EXPECT_FALSE(DecodeConfChange(with(2, 3)).has_value());                 // count too large
  // A count near 2^32 must not overflow the length check.
  std::string huge = good;
  huge[2] = huge[3] = huge[4] = huge[5] = '\xff';
  EXPECT_FALSE(DecodeConfChange(huge).has_value());
}

}  // namespace
}  // namespace synod::raft
