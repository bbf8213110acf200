// MemoryStorage: the stable log the core reads (storage.h). Bounds, compaction and snapshots.
#include <gtest/gtest.h>

#include "raft/storage.h"

namespace synod::raft {
namespace {

Entry E(uint64_t term, uint64_t index, std::string data = "") {
  return Entry{Term(term), LogIndex(index), EntryType::kNormal, Payload(std::move(data))};
}

// Entries 1..5 with terms 1,1,2,2,3.
MemoryStorage FiveEntries() {
  MemoryStorage s;
  s.Append({E(1, 1), E(1, 2), E(2, 3), E(2, 4), E(3, 5)});
  return s;
}

std::vector<uint64_t> Indexes(const std::vector<Entry>& ents) {
  std::vector<uint64_t> out;
  for (const Entry& e : ents) out.push_back(e.index.value);
  return out;
}

TEST(MemoryStorage, EmptyLogHasOnlyTheDummyEntry) {
  MemoryStorage s;
  EXPECT_EQ(s.FirstIndex(), LogIndex(1));
  EXPECT_EQ(s.LastIndex(), LogIndex(0));
  ASSERT_TRUE(s.TermOf(LogIndex(0)).ok());
  EXPECT_EQ(s.TermOf(LogIndex(0)).value(), Term(0));
  EXPECT_EQ(s.TermOf(LogIndex(1)).status().code(), ErrorCode::kUnavailable);
  auto none = s.Entries(LogIndex(1), LogIndex(1), UINT64_MAX);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none.value().empty());
  EXPECT_TRUE(s.GetSnapshot().IsEmpty());
  EXPECT_TRUE(s.GetInitialState().hard_state.IsEmpty());
}

TEST(MemoryStorage, EntriesBoundsAndErrors) {
  MemoryStorage s = FiveEntries();
  EXPECT_EQ(Indexes(s.Entries(LogIndex(2), LogIndex(5), UINT64_MAX).value()),
            (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(Indexes(s.Entries(LogIndex(1), LogIndex(6), UINT64_MAX).value()),
            (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  // Index 0 is the dummy entry, not a real one.
  EXPECT_EQ(s.Entries(LogIndex(0), LogIndex(3), UINT64_MAX).status().code(),
            ErrorCode::kCompacted);
  EXPECT_EQ(s.Entries(LogIndex(3), LogIndex(7), UINT64_MAX).status().code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(s.TermOf(LogIndex(6)).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(s.TermOf(LogIndex(4)).value(), Term(2));
}

TEST(MemoryStorage, EntriesRespectTheByteLimitButReturnAtLeastOne) {
  MemoryStorage s;
  s.Append({E(1, 1, "aaaa"), E(1, 2, "bbbb"), E(1, 3, "cccc")});
  const uint64_t one = E(1, 1, "aaaa").ByteSize();
  EXPECT_EQ(Indexes(s.Entries(LogIndex(1), LogIndex(4), 0).value()),
            (std::vector<uint64_t>{1}));
  EXPECT_EQ(Indexes(s.Entries(LogIndex(1), LogIndex(4), one).value()),
            (std::vector<uint64_t>{1}));
  EXPECT_EQ(Indexes(s.Entries(LogIndex(1), LogIndex(4), 2 * one).value()),
            (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(Indexes(s.Entries(LogIndex(1), LogIndex(4), 3 * one - 1).value()),
            (std::vector<uint64_t>{1, 2}));
}

TEST(MemoryStorage, AppendReplacesTheConflictingSuffix) {
  MemoryStorage s = FiveEntries();
  s.Append({E(4, 3, "new")});
  EXPECT_EQ(s.LastIndex(), LogIndex(3));
  EXPECT_EQ(s.TermOf(LogIndex(3)).value(), Term(4));
  // Appending right after the end extends the log.
  s.Append({E(4, 4)});
  EXPECT_EQ(s.LastIndex(), LogIndex(4));
}

TEST(MemoryStorage, AppendIgnoresEntriesAlreadyCompacted) {
  MemoryStorage s = FiveEntries();
  ASSERT_TRUE(s.Compact(LogIndex(3)).ok());
  s.Append({E(2, 2), E(2, 3), E(2, 4), E(5, 5), E(5, 6)});
  EXPECT_EQ(s.FirstIndex(), LogIndex(4));
  EXPECT_EQ(s.LastIndex(), LogIndex(6));
  EXPECT_EQ(s.TermOf(LogIndex(5)).value(), Term(5));
  s.Append({E(1, 1)});  // entirely compacted: nothing happens
  EXPECT_EQ(s.LastIndex(), LogIndex(6));
}

TEST(MemoryStorageDeathTest, AppendWithAGapIsABug) {
  MemoryStorage s = FiveEntries();
  EXPECT_DEATH(s.Append({E(3, 7)}), "gap");
}

TEST(MemoryStorage, CompactKeepsTheTermOfTheLastCompactedEntry) {
  MemoryStorage s = FiveEntries();
  ASSERT_TRUE(s.Compact(LogIndex(3)).ok());
  EXPECT_EQ(s.FirstIndex(), LogIndex(4));
  EXPECT_EQ(s.LastIndex(), LogIndex(5));
  EXPECT_EQ(s.TermOf(LogIndex(3)).value(), Term(2));  // needed to check appends after it
  EXPECT_EQ(s.TermOf(LogIndex(2)).status().code(), ErrorCode::kCompacted);
  EXPECT_EQ(s.Entries(LogIndex(3), LogIndex(5), UINT64_MAX).status().code(),
            ErrorCode::kCompacted);
  EXPECT_EQ(Indexes(s.Entries(LogIndex(4), LogIndex(6), UINT64_MAX).value()),
            (std::vector<uint64_t>{4, 5}));
}

TEST(MemoryStorage, CompactErrors) {
  MemoryStorage s = FiveEntries();
  ASSERT_TRUE(s.Compact(LogIndex(2)).ok());
  EXPECT_EQ(s.Compact(LogIndex(2)).code(), ErrorCode::kCompacted);
  EXPECT_EQ(s.Compact(LogIndex(1)).code(), ErrorCode::kCompacted);
  EXPECT_EQ(s.Compact(LogIndex(6)).code(), ErrorCode::kInvalidArgument);
  // Compacting everything leaves an empty log after the dummy entry.
  ASSERT_TRUE(s.Compact(LogIndex(5)).ok());
  EXPECT_EQ(s.FirstIndex(), LogIndex(6));
  EXPECT_EQ(s.LastIndex(), LogIndex(5));
}

TEST(MemoryStorage, CreateSnapshotRecordsStateButKeepsTheLog) {
  MemoryStorage s = FiveEntries();
  ConfState cs;
  cs.voters = {NodeId(1), NodeId(2)};
  ASSERT_TRUE(s.CreateSnapshot(LogIndex(4), cs, Payload("image")).ok());
  const Snapshot snap = s.GetSnapshot();
  EXPECT_EQ(snap.metadata.index, LogIndex(4));
  EXPECT_EQ(snap.metadata.term, Term(2));
  EXPECT_EQ(snap.metadata.conf_state, cs);
  EXPECT_EQ(snap.data.view(), "image");
  EXPECT_EQ(s.FirstIndex(), LogIndex(1));
  EXPECT_EQ(s.GetInitialState().conf_state, cs);

  EXPECT_EQ(s.CreateSnapshot(LogIndex(4), cs, Payload()).code(), ErrorCode::kCompacted);
  EXPECT_EQ(s.CreateSnapshot(LogIndex(3), cs, Payload()).code(), ErrorCode::kCompacted);
  EXPECT_EQ(s.CreateSnapshot(LogIndex(6), cs, Payload()).code(), ErrorCode::kInvalidArgument);
}

// A snapshot may only be taken of an index the storage still holds. After a compaction with no
// snapshot recorded (allowed by the API), an older index must be refused, not read out of
// bounds.
TEST(MemoryStorage, CreateSnapshotBelowTheCompactedPrefixIsRefused) {
  MemoryStorage s = FiveEntries();
  ASSERT_TRUE(s.Compact(LogIndex(3)).ok());
  EXPECT_EQ(s.CreateSnapshot(LogIndex(2), ConfState{}, Payload()).code(), ErrorCode::kCompacted);
}

TEST(MemoryStorage, ApplySnapshotReplacesTheLog) {
  MemoryStorage s = FiveEntries();
  Snapshot snap;
  snap.metadata.index = LogIndex(10);
  snap.metadata.term = Term(4);
  snap.metadata.conf_state.voters = {NodeId(1)};
  ASSERT_TRUE(s.ApplySnapshot(snap));
  EXPECT_EQ(s.FirstIndex(), LogIndex(11));
  EXPECT_EQ(s.LastIndex(), LogIndex(10));
  EXPECT_EQ(s.TermOf(LogIndex(10)).value(), Term(4));
  EXPECT_EQ(s.GetSnapshot(), snap);
  // Older or equal snapshots are refused.
  EXPECT_FALSE(s.ApplySnapshot(snap));
  snap.metadata.index = LogIndex(7);
  EXPECT_FALSE(s.ApplySnapshot(snap));
  // The log continues after the snapshot.
  s.Append({E(4, 11)});
  EXPECT_EQ(s.LastIndex(), LogIndex(11));
}

TEST(MemoryStorage, HardStateRoundTrips) {
  MemoryStorage s;
  const HardState hs{Term(3), NodeId(2), LogIndex(0)};
  s.SetHardState(hs);
  EXPECT_EQ(s.hard_state(), hs);
  EXPECT_EQ(s.GetInitialState().hard_state, hs);
}

}  // namespace
}  // namespace synod::raft
