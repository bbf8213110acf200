#include "sim/kv.h"

#include <gtest/gtest.h>

#include "sim/records.h"

namespace synod::sim {
namespace {

Command Put(uint64_t client, uint64_t request, std::string key, std::string value) {
  return Command{CommandKind::kPut, client, request, std::move(key), std::move(value), {}};
}

TEST(Kv, CommandsRoundTrip) {
  Command cas{CommandKind::kCas, 3, 9, "k", "new", std::optional<std::string>("old")};
  EXPECT_EQ(DecodeCommand(EncodeCommand(cas)), cas);
  Command absent{CommandKind::kCas, 3, 10, "k", "v", std::nullopt};
  EXPECT_EQ(DecodeCommand(EncodeCommand(absent)), absent);
  EXPECT_FALSE(DecodeCommand("garbage").has_value());
  std::string bytes = EncodeCommand(cas);
  bytes.push_back('x');
  EXPECT_FALSE(DecodeCommand(bytes).has_value());  // trailing bytes
}

TEST(Kv, PutGetCas) {
  KvStateMachine kv;
  CommandResult r;
  EXPECT_EQ(kv.Apply(Put(1, 1, "a", "x"), &r), ApplyStatus::kApplied);
  EXPECT_EQ(kv.Get("a"), "x");
  EXPECT_EQ(kv.Apply({CommandKind::kCas, 1, 2, "a", "y", std::optional<std::string>("z")}, &r),
            ApplyStatus::kApplied);
  EXPECT_FALSE(r.cas_succeeded);
  EXPECT_EQ(kv.Apply({CommandKind::kCas, 1, 3, "a", "y", std::optional<std::string>("x")}, &r),
            ApplyStatus::kApplied);
  EXPECT_TRUE(r.cas_succeeded);
  EXPECT_EQ(kv.Apply({CommandKind::kCas, 2, 1, "b", "new", std::nullopt}, &r),
            ApplyStatus::kApplied);
  EXPECT_TRUE(r.cas_succeeded);  // expected absent, was absent
  EXPECT_EQ(kv.Apply({CommandKind::kGet, 2, 2, "a", "", {}}, &r), ApplyStatus::kApplied);
  EXPECT_EQ(r.value, "y");
}

TEST(Kv, SessionsApplyEachRequestOnce) {
  KvStateMachine kv;
  CommandResult r;
  ASSERT_EQ(kv.Apply(Put(1, 5, "a", "first"), &r), ApplyStatus::kApplied);
  ASSERT_EQ(kv.Apply(Put(2, 1, "a", "second"), &r), ApplyStatus::kApplied);
  // A duplicate of client 1's request 5 (retry, or a proposal the network duplicated).
  EXPECT_EQ(kv.Apply(Put(1, 5, "a", "first"), &r), ApplyStatus::kDuplicate);
  EXPECT_EQ(kv.Get("a"), "second");
  EXPECT_EQ(kv.Apply(Put(1, 4, "a", "older"), &r), ApplyStatus::kStale);
  EXPECT_EQ(kv.Get("a"), "second");
}

TEST(Kv, ImageRestoresTheSameState) {
  KvStateMachine kv;
  CommandResult r;
  (void)kv.Apply(Put(1, 1, "a", "x"), &r);
  (void)kv.Apply(Put(2, 7, "b", "y"), &r);
  KvStateMachine copy;
  ASSERT_TRUE(copy.Restore(kv.Image()));
  EXPECT_EQ(copy.Hash(), kv.Hash());
  EXPECT_EQ(copy.Apply(Put(2, 7, "b", "y"), &r), ApplyStatus::kDuplicate);  // sessions too
  EXPECT_FALSE(copy.Restore("junk"));
  EXPECT_EQ(copy.Get("a"), "x");  // a failed restore changes nothing
}

TEST(Records, RoundTrip) {
  raft::HardState hs{raft::Term(3), raft::NodeId(2), raft::LogIndex(17)};
  EXPECT_EQ(DecodeHardState(EncodeHardState(hs)), hs);

  std::vector<raft::Entry> ents{
      {raft::Term(2), raft::LogIndex(5), raft::EntryType::kNormal, raft::Payload("a")},
      {raft::Term(3), raft::LogIndex(6), raft::EntryType::kConfChange, raft::Payload("cc")}};
  EXPECT_EQ(DecodeEntries(EncodeEntries(ents)), ents);

  raft::Snapshot snap;
  snap.metadata.index = raft::LogIndex(40);
  snap.metadata.term = raft::Term(4);
  snap.metadata.conf_state.voters = {raft::NodeId(1), raft::NodeId(2)};
  snap.metadata.conf_state.voters_outgoing = {raft::NodeId(3)};
  snap.metadata.conf_state.auto_leave = true;
  snap.data = raft::Payload("image");
  EXPECT_EQ(DecodeSnapshot(EncodeSnapshot(snap)), snap);

  EXPECT_FALSE(DecodeHardState("short").has_value());
  std::vector<raft::Entry> gap = ents;
  gap[1].index = raft::LogIndex(9);
  EXPECT_FALSE(DecodeEntries(EncodeEntries(gap)).has_value());
}

}  // namespace
}  // namespace synod::sim
