// GroupReplay and the Raft record codec: what a sequence of records rebuilds, without files.
#include "storage/raft_replay.h"

#include <gtest/gtest.h>

#include <vector>

#include "storage/raft_codec.h"

namespace synod::storage {
namespace {

using raft::Entry;
using raft::EntryType;
using raft::LogIndex;
using raft::NodeId;
using raft::Payload;
using raft::Term;

std::vector<Entry> Ents(uint64_t first, uint64_t last, uint64_t term) {
  std::vector<Entry> out;
  for (uint64_t i = first; i <= last; ++i) {
    out.push_back(Entry{Term(term), LogIndex(i), EntryType::kNormal,
                        Payload("e" + std::to_string(i) + "t" + std::to_string(term))});
  }
  return out;
}

raft::Snapshot Snap(uint64_t index, uint64_t term) {
  raft::Snapshot s;
  s.metadata.index = LogIndex(index);
  s.metadata.term = Term(term);
  s.metadata.conf_state.voters = {NodeId(1), NodeId(2), NodeId(3)};
  s.data = Payload("state@" + std::to_string(index));
  return s;
}

std::vector<Entry> AllEntries(const raft::MemoryStorage& s) {
  if (s.LastIndex() < s.FirstIndex()) return {};
  return s.Entries(s.FirstIndex(), s.LastIndex() + 1, UINT64_MAX).value();
}

TEST(GroupReplay, LaterEntriesReplaceTheSuffix) {
  GroupReplay r;
  ASSERT_TRUE(r.OnEntries(Ents(1, 5, 1)).ok());
  ASSERT_TRUE(r.OnEntries(Ents(4, 6, 2)).ok());
  r.OnHardState(raft::HardState{Term(2), NodeId(1), LogIndex(3)});
  auto s = r.Build();
  ASSERT_TRUE(s.ok());
  std::vector<Entry> want = Ents(1, 3, 1);
  for (const Entry& e : Ents(4, 6, 2)) want.push_back(e);
  EXPECT_EQ(AllEntries(*s.value()), want);
  EXPECT_EQ(s.value()->hard_state(), (raft::HardState{Term(2), NodeId(1), LogIndex(3)}));
}

TEST(GroupReplay, GapIsCorruption) {
  GroupReplay r;
  ASSERT_TRUE(r.OnEntries(Ents(1, 5, 1)).ok());
  EXPECT_EQ(r.OnEntries(Ents(7, 8, 1)).code(), ErrorCode::kCorruption);
}

TEST(GroupReplay, InstalledSnapshotReplacesTheLog) {
  GroupReplay r;
  ASSERT_TRUE(r.OnEntries(Ents(1, 30, 1)).ok());
  ASSERT_TRUE(r.OnSnapshot(SnapshotMode::kInstalled, Snap(20, 3)).ok());
  ASSERT_TRUE(r.OnEntries(Ents(21, 22, 3)).ok());
  auto s = r.Build();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value()->GetSnapshot(), Snap(20, 3));
  EXPECT_EQ(AllEntries(*s.value()), Ents(21, 22, 3));
}

TEST(GroupReplay, CompactionKeepsLaterEntries) {
  GroupReplay r;
  ASSERT_TRUE(r.OnEntries(Ents(1, 30, 1)).ok());
  ASSERT_TRUE(r.OnSnapshot(SnapshotMode::kCompacted, Snap(20, 1)).ok());
  auto s = r.Build();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value()->FirstIndex(), LogIndex(21));
  EXPECT_EQ(AllEntries(*s.value()), Ents(21, 30, 1));
  EXPECT_EQ(s.value()->TermOf(LogIndex(20)).value(), Term(1));
}

TEST(GroupReplay, CompactionThatDisagreesWithTheLogIsCorruption) {
  GroupReplay r;
  ASSERT_TRUE(r.OnEntries(Ents(1, 30, 1)).ok());
  EXPECT_EQ(r.OnSnapshot(SnapshotMode::kCompacted, Snap(20, 2)).code(), ErrorCode::kCorruption);
}

TEST(GroupReplay, ReleasedPrefixMayStartAnywhereBelowTheSnapshot) {
  // Segments before these records were released: the first entries start at 8.
  GroupReplay r;
  ASSERT_TRUE(r.OnEntries(Ents(8, 15, 1)).ok());
  ASSERT_TRUE(r.OnSnapshot(SnapshotMode::kCompacted, Snap(10, 1)).ok());
  ASSERT_TRUE(r.OnEntries(Ents(16, 17, 1)).ok());
  auto s = r.Build();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(AllEntries(*s.value()), Ents(11, 17, 1));
}

TEST(GroupReplay, OlderSnapshotChangesNothing) {
  GroupReplay r;
  ASSERT_TRUE(r.OnSnapshot(SnapshotMode::kInstalled, Snap(20, 3)).ok());
  ASSERT_TRUE(r.OnEntries(Ents(21, 25, 3)).ok());
  ASSERT_TRUE(r.OnSnapshot(SnapshotMode::kInstalled, Snap(10, 2)).ok());
  auto s = r.Build();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value()->GetSnapshot(), Snap(20, 3));
  EXPECT_EQ(AllEntries(*s.value()), Ents(21, 25, 3));
}

TEST(GroupReplay, LogThatDoesNotContinueTheSnapshotIsCorruption) {
  GroupReplay r;
  ASSERT_TRUE(r.OnSnapshot(SnapshotMode::kInstalled, Snap(20, 3)).ok());
  ASSERT_TRUE(r.OnEntries(Ents(23, 25, 3)).ok());
  EXPECT_EQ(r.Build().status().code(), ErrorCode::kCorruption);
}

TEST(GroupReplay, CommitPastTheLogIsCorruption) {
  GroupReplay r;
  ASSERT_TRUE(r.OnEntries(Ents(1, 5, 1)).ok());
  r.OnHardState(raft::HardState{Term(1), NodeId(1), LogIndex(6)});
  EXPECT_EQ(r.Build().status().code(), ErrorCode::kCorruption);
}

TEST(RaftCodec, RecordsRoundTrip) {
  const raft::GroupId g(42);
  const raft::HardState hs{Term(7), NodeId(3), LogIndex(1000)};
  auto h = DecodeHardState(EncodeHardState(g, hs));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value().group, g);
  EXPECT_EQ(h.value().hard_state, hs);

  std::vector<Entry> ents = Ents(100, 104, 7);
  ents[2].type = EntryType::kConfChange;
  ents[3].data = Payload();
  auto e = DecodeEntries(EncodeEntries(g, ents));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value().entries, ents);

  raft::Snapshot snap = Snap(99, 6);
  snap.metadata.conf_state.learners = {NodeId(9)};
  snap.metadata.conf_state.voters_outgoing = {NodeId(1), NodeId(4)};
  snap.metadata.conf_state.learners_next = {NodeId(4)};
  snap.metadata.conf_state.auto_leave = true;
  auto s = DecodeSnapshot(EncodeSnapshot(g, SnapshotMode::kCompacted, snap));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value().mode, SnapshotMode::kCompacted);
  EXPECT_EQ(s.value().snapshot, snap);
}

TEST(RaftCodec, TruncatedOrPaddedPayloadsAreCorruption) {
  const std::string enc = EncodeEntries(raft::GroupId(1), Ents(1, 3, 1));
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_EQ(DecodeEntries(enc.substr(0, n)).status().code(), ErrorCode::kCorruption) << n;
  }
  EXPECT_EQ(DecodeEntries(enc + "x").status().code(), ErrorCode::kCorruption);
  const std::string snap = EncodeSnapshot(raft::GroupId(1), SnapshotMode::kInstalled, Snap(5, 1));
  for (size_t n = 0; n < snap.size(); ++n) {
    EXPECT_EQ(DecodeSnapshot(snap.substr(0, n)).status().code(), ErrorCode::kCorruption) << n;
  }
}

}  // namespace
}  // namespace synod::storage
