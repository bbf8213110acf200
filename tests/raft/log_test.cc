// RaftLog (log.h): the stable log in Storage followed by the unstable tail. Follower appends
// (Raft §5.3), commit rules (§5.4.2), the backtracking hint, slicing and persistence.
#include <gtest/gtest.h>

#include "raft/log.h"

namespace synod::raft {
namespace {

Entry E(uint64_t term, uint64_t index, std::string data = "") {
  return Entry{Term(term), LogIndex(index), EntryType::kNormal, Payload(std::move(data))};
}

std::vector<Entry> Terms(uint64_t first_index, std::initializer_list<uint64_t> terms) {
  std::vector<Entry> out;
  uint64_t i = first_index;
  for (uint64_t t : terms) out.push_back(E(t, i++));
  return out;
}

std::vector<uint64_t> TermsOf(const std::vector<Entry>& ents) {
  std::vector<uint64_t> out;
  for (const Entry& e : ents) out.push_back(e.term.value);
  return out;
}

std::vector<uint64_t> Indexes(const std::vector<Entry>& ents) {
  std::vector<uint64_t> out;
  for (const Entry& e : ents) out.push_back(e.index.value);
  return out;
}

// Entries 1..3 stable (terms 1,1,2), 4..6 unstable (terms 2,3,3).
class RaftLogTest : public ::testing::Test {
 protected:
  RaftLogTest() {
    storage_.Append(Terms(1, {1, 1, 2}));
    log_ = std::make_unique<RaftLog>(&storage_, UINT64_MAX);
    log_->Append(Terms(4, {2, 3, 3}));
  }
  std::vector<Entry> All() { return log_->Slice(LogIndex(1), log_->LastIndex() + 1,
                                                UINT64_MAX).value(); }

  MemoryStorage storage_;
  std::unique_ptr<RaftLog> log_;
};

TEST_F(RaftLogTest, Bounds) {
  EXPECT_EQ(log_->FirstIndex(), LogIndex(1));
  EXPECT_EQ(log_->LastIndex(), LogIndex(6));
  EXPECT_EQ(log_->LastTerm(), Term(3));
  EXPECT_EQ(log_->LastStableIndex(), LogIndex(3));
  EXPECT_EQ(log_->TermOf(LogIndex(0)), Term(0));
  EXPECT_EQ(log_->TermOf(LogIndex(4)), Term(2));
  EXPECT_EQ(log_->TermOf(LogIndex(7)), std::nullopt);
  EXPECT_EQ(log_->committed(), LogIndex(0));
}

TEST_F(RaftLogTest, Section5_4_1_IsUpToDate) {
  EXPECT_TRUE(log_->IsUpToDate(LogIndex(6), Term(3)));   // same log
  EXPECT_TRUE(log_->IsUpToDate(LogIndex(7), Term(3)));   // longer
  EXPECT_FALSE(log_->IsUpToDate(LogIndex(5), Term(3)));  // shorter, same last term
  EXPECT_TRUE(log_->IsUpToDate(LogIndex(2), Term(4)));   // higher last term wins over length
  EXPECT_FALSE(log_->IsUpToDate(LogIndex(9), Term(2)));  // longer but older last term
}

TEST_F(RaftLogTest, Section5_3_MaybeAppendRejectsAMismatchedPrevious) {
  EXPECT_EQ(log_->MaybeAppend(LogIndex(5), Term(2), LogIndex(5), Terms(6, {4})), std::nullopt);
  EXPECT_EQ(log_->MaybeAppend(LogIndex(7), Term(3), LogIndex(5), {}), std::nullopt);
  EXPECT_EQ(TermsOf(All()), (std::vector<uint64_t>{1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(log_->committed(), LogIndex(0));
}

TEST_F(RaftLogTest, Section5_3_MaybeAppendTruncatesAtTheFirstConflictOnly) {
  auto last = log_->MaybeAppend(LogIndex(3), Term(2), LogIndex(0), Terms(4, {2, 4, 4, 4}));
  ASSERT_EQ(last, LogIndex(7));
  EXPECT_EQ(TermsOf(All()), (std::vector<uint64_t>{1, 1, 2, 2, 4, 4, 4}));
}

TEST_F(RaftLogTest, Section5_3_DelayedShorterAppendDoesNotEraseLaterEntries) {
  // A stale append covering only 4..5 (already present) must leave 6 in place.
  auto last = log_->MaybeAppend(LogIndex(3), Term(2), LogIndex(0), Terms(4, {2, 3}));
  ASSERT_EQ(last, LogIndex(5));
  EXPECT_EQ(log_->LastIndex(), LogIndex(6));
  EXPECT_EQ(TermsOf(All()), (std::vector<uint64_t>{1, 1, 2, 2, 3, 3}));
}

TEST_F(RaftLogTest, Section5_3_CommitIsBoundedByTheLastNewEntry) {
  // The leader's commit may be ahead of what this message proves we share with it.
  auto last = log_->MaybeAppend(LogIndex(2), Term(1), LogIndex(9), Terms(3, {2}));
  ASSERT_EQ(last, LogIndex(3));
  EXPECT_EQ(log_->committed(), LogIndex(3));
  ASSERT_TRUE(log_->MaybeAppend(LogIndex(5), Term(3), LogIndex(4), {}).has_value());
  EXPECT_EQ(log_->committed(), LogIndex(4));
  // Never backwards.
  ASSERT_TRUE(log_->MaybeAppend(LogIndex(5), Term(3), LogIndex(1), {}).has_value());
  EXPECT_EQ(log_->committed(), LogIndex(4));
}

TEST_F(RaftLogTest, AppendsBelowTheCommitIndexMayRepeatCommittedEntries) {
  log_->CommitTo(LogIndex(5));
  ASSERT_TRUE(log_->MaybeAppend(LogIndex(2), Term(1), LogIndex(5), Terms(3, {2, 2, 3, 3, 5}))
                  .has_value());
  EXPECT_EQ(TermsOf(All()), (std::vector<uint64_t>{1, 1, 2, 2, 3, 3, 5}));
}

TEST_F(RaftLogTest, TruncatingACommittedEntryIsABug) {
  log_->CommitTo(LogIndex(5));
  EXPECT_DEATH((void)log_->MaybeAppend(LogIndex(3), Term(2), LogIndex(5), Terms(4, {2, 9})),
               "committed");
}

TEST_F(RaftLogTest, FindConflictByTerm) {
  // Terms: 1:1 2:1 3:2 4:2 5:3 6:3.
  using P = std::pair<LogIndex, Term>;
  EXPECT_EQ(log_->FindConflictByTerm(LogIndex(6), Term(3)), P(LogIndex(6), Term(3)));
  EXPECT_EQ(log_->FindConflictByTerm(LogIndex(6), Term(2)), P(LogIndex(4), Term(2)));
  EXPECT_EQ(log_->FindConflictByTerm(LogIndex(6), Term(1)), P(LogIndex(2), Term(1)));
  EXPECT_EQ(log_->FindConflictByTerm(LogIndex(6), Term(0)), P(LogIndex(0), Term(0)));
  EXPECT_EQ(log_->FindConflictByTerm(LogIndex(3), Term(5)), P(LogIndex(3), Term(2)));
  // Past the end, nothing is known about the term.
  EXPECT_EQ(log_->FindConflictByTerm(LogIndex(9), Term(3)), P(LogIndex(9), Term(0)));
}

TEST(RaftLog, FindConflictByTermStopsAtTheCompactedPrefix) {
  MemoryStorage storage;
  Snapshot snap;
  snap.metadata.index = LogIndex(5);
  snap.metadata.term = Term(3);
  ASSERT_TRUE(storage.ApplySnapshot(snap));
  storage.Append(Terms(6, {4, 4}));
  RaftLog log(&storage, UINT64_MAX);
  using P = std::pair<LogIndex, Term>;
  EXPECT_EQ(log.FindConflictByTerm(LogIndex(7), Term(3)), P(LogIndex(5), Term(3)));
  // Term 2 ends somewhere inside the snapshot: unknown, so term 0 says "no term known".
  EXPECT_EQ(log.FindConflictByTerm(LogIndex(7), Term(2)), P(LogIndex(4), Term(0)));
}

TEST_F(RaftLogTest, Section5_4_2_OnlyEntriesOfTheCurrentTermCommitByCounting) {
  EXPECT_FALSE(log_->MaybeCommit(LogIndex(4), Term(3)));  // index 4 has term 2
  EXPECT_EQ(log_->committed(), LogIndex(0));
  EXPECT_TRUE(log_->MaybeCommit(LogIndex(5), Term(3)));
  EXPECT_EQ(log_->committed(), LogIndex(5));
  EXPECT_FALSE(log_->MaybeCommit(LogIndex(5), Term(3)));  // no progress
  EXPECT_FALSE(log_->MaybeCommit(LogIndex(4), Term(2)));  // never backwards
  // The injected bug skips the term check.
  EXPECT_TRUE(log_->MaybeCommit(LogIndex(6), Term(9), /*require_term=*/false));
}

TEST_F(RaftLogTest, CommitPastTheEndIsABug) {
  EXPECT_DEATH(log_->CommitTo(LogIndex(7)), "past the end");
}

TEST_F(RaftLogTest, SliceAcrossStableAndUnstable) {
  EXPECT_EQ(Indexes(log_->Slice(LogIndex(2), LogIndex(6), UINT64_MAX).value()),
            (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(Indexes(log_->Slice(LogIndex(4), LogIndex(7), UINT64_MAX).value()),
            (std::vector<uint64_t>{4, 5, 6}));
  EXPECT_TRUE(log_->Slice(LogIndex(4), LogIndex(4), UINT64_MAX).value().empty());
  EXPECT_EQ(log_->Slice(LogIndex(0), LogIndex(3), UINT64_MAX).status().code(),
            ErrorCode::kCompacted);
  EXPECT_EQ(log_->Slice(LogIndex(5), LogIndex(8), UINT64_MAX).status().code(),
            ErrorCode::kUnavailable);
}

TEST_F(RaftLogTest, SliceByteLimit) {
  const uint64_t one = E(1, 1).ByteSize();  // every entry here has the same size
  auto slice = [&](uint64_t lo, uint64_t bytes) {
    return Indexes(log_->Slice(LogIndex(lo), LogIndex(7), bytes).value());
  };
  EXPECT_EQ(slice(1, 0), (std::vector<uint64_t>{1}));        // at least one entry
  EXPECT_EQ(slice(1, 2 * one), (std::vector<uint64_t>{1, 2}));  // stops inside storage
  EXPECT_EQ(slice(1, 3 * one), (std::vector<uint64_t>{1, 2, 3}));  // exactly the stable part
  EXPECT_EQ(slice(2, 4 * one), (std::vector<uint64_t>{2, 3, 4, 5}));  // crosses into unstable
  EXPECT_EQ(slice(5, 0), (std::vector<uint64_t>{5}));           // unstable only
  EXPECT_EQ(slice(4, 2 * one + 1), (std::vector<uint64_t>{4, 5}));
}

TEST_F(RaftLogTest, StableToMovesTheBoundary) {
  log_->StableTo(LogIndex(5), Term(3));
  EXPECT_EQ(log_->LastStableIndex(), LogIndex(5));
  EXPECT_EQ(Indexes(log_->UnstableEntries()), (std::vector<uint64_t>{6}));
  // Already stable, or unknown: ignored.
  log_->StableTo(LogIndex(2), Term(1));
  log_->StableTo(LogIndex(9), Term(3));
  EXPECT_EQ(log_->LastStableIndex(), LogIndex(5));
}

TEST_F(RaftLogTest, StableToIgnoresAnEntryReplacedSinceItWasHandedOut) {
  // Entries 4..6 were handed out for persisting; before the caller reports back, a new
  // leader replaces 5 and 6.
  ASSERT_TRUE(log_->MaybeAppend(LogIndex(4), Term(2), LogIndex(0), Terms(5, {4, 4})));
  log_->StableTo(LogIndex(6), Term(3));
  EXPECT_EQ(log_->LastStableIndex(), LogIndex(3));
  EXPECT_EQ(TermsOf(log_->UnstableEntries()), (std::vector<uint64_t>{2, 4, 4}));
  log_->StableTo(LogIndex(6), Term(4));
  EXPECT_EQ(log_->LastStableIndex(), LogIndex(6));
}

TEST_F(RaftLogTest, TruncationIntoTheStablePartIsPersistedByTheCaller) {
  ASSERT_TRUE(log_->MaybeAppend(LogIndex(1), Term(1), LogIndex(0), Terms(2, {1, 5})));
  EXPECT_EQ(log_->LastStableIndex(), LogIndex(2));
  EXPECT_EQ(Indexes(log_->UnstableEntries()), (std::vector<uint64_t>{3}));
  EXPECT_EQ(log_->TermOf(LogIndex(3)), Term(5));
  EXPECT_EQ(log_->LastIndex(), LogIndex(3));
}

TEST(RaftLog, CommittedEntriesAreHandedOutOnceWithinTheApplyLimit) {
  MemoryStorage storage;
  storage.Append(Terms(1, {1, 1, 1, 1}));
  const uint64_t one = E(1, 1).ByteSize();
  RaftLog log(&storage, 2 * one);
  EXPECT_FALSE(log.HasNextCommittedEntries());
  log.CommitTo(LogIndex(3));
  ASSERT_TRUE(log.HasNextCommittedEntries());
  EXPECT_EQ(Indexes(log.NextCommittedEntries()), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(log.applying(), LogIndex(2));
  EXPECT_EQ(Indexes(log.NextCommittedEntries()), (std::vector<uint64_t>{3}));
  EXPECT_FALSE(log.HasNextCommittedEntries());
  log.AppliedTo(LogIndex(3));
  EXPECT_EQ(log.applied(), LogIndex(3));
  EXPECT_DEATH(log.AppliedTo(LogIndex(4)), "applied index out of range");
}

TEST_F(RaftLogTest, Section7_RestoreReplacesTheLogWithASnapshot) {
  Snapshot snap;
  snap.metadata.index = LogIndex(10);
  snap.metadata.term = Term(5);
  snap.metadata.conf_state.voters = {NodeId(1), NodeId(2), NodeId(3)};
  log_->Restore(snap);
  EXPECT_EQ(log_->committed(), LogIndex(10));
  EXPECT_EQ(log_->FirstIndex(), LogIndex(11));
  EXPECT_EQ(log_->LastIndex(), LogIndex(10));
  EXPECT_EQ(log_->LastTerm(), Term(5));
  EXPECT_EQ(log_->TermOf(LogIndex(5)), std::nullopt);  // gone, even though storage has it
  EXPECT_TRUE(log_->UnstableEntries().empty());
  ASSERT_TRUE(log_->UnstableSnapshot().has_value());
  EXPECT_EQ(log_->GetSnapshot().value(), snap);
  // Nothing inside the snapshot is handed out for apply: the snapshot itself is applied.
  EXPECT_FALSE(log_->HasNextCommittedEntries());
  // New entries follow the snapshot before it is persisted.
  ASSERT_TRUE(log_->MaybeAppend(LogIndex(10), Term(5), LogIndex(11), Terms(11, {5})));
  EXPECT_EQ(log_->committed(), LogIndex(11));

  // The caller persists the snapshot, then reports it.
  ASSERT_TRUE(storage_.ApplySnapshot(snap));
  log_->StableSnapTo(LogIndex(10));
  EXPECT_FALSE(log_->UnstableSnapshot().has_value());
  EXPECT_EQ(log_->FirstIndex(), LogIndex(11));
  EXPECT_EQ(log_->TermOf(LogIndex(10)), Term(5));
}

TEST_F(RaftLogTest, RestoringAnOlderSnapshotIsABug) {
  log_->CommitTo(LogIndex(5));
  Snapshot snap;
  snap.metadata.index = LogIndex(4);
  snap.metadata.term = Term(2);
  EXPECT_DEATH(log_->Restore(snap), "older snapshot");
}

TEST(RaftLog, StartsCommittedAtTheStorageSnapshot) {
  MemoryStorage storage;
  Snapshot snap;
  snap.metadata.index = LogIndex(7);
  snap.metadata.term = Term(2);
  ASSERT_TRUE(storage.ApplySnapshot(snap));
  RaftLog log(&storage, UINT64_MAX);
  EXPECT_EQ(log.committed(), LogIndex(7));
  EXPECT_EQ(log.applied(), LogIndex(7));
  EXPECT_EQ(log.LastIndex(), LogIndex(7));
  EXPECT_EQ(log.LastTerm(), Term(2));
  EXPECT_EQ(log.GetSnapshot().value().metadata.index, LogIndex(7));
  MemoryStorage empty;
  RaftLog fresh(&empty, UINT64_MAX);
  EXPECT_EQ(fresh.GetSnapshot().status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace synod::raft
