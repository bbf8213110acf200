// The etcd v3 key-space semantics, case by case: revisions and versions, Put options,
// DeleteRange, Range (ranges, limit, count, sort, filters, past revisions), compaction, and
// applied-index bookkeeping. Transactions, leases and history have their own files.
#include <gtest/gtest.h>

#include "test_util.h"

namespace synod::mvcc {
namespace {

using testing::DeleteOf;
using testing::KeysOf;
using testing::PutOf;
using testing::RangeOf;
using testing::TestStore;
using testing::Zero;

TEST(RevisionTest, EmptyStoreIsAtRevisionOne) {
  TestStore s;
  EXPECT_EQ(s->revision(), 1);
  EXPECT_EQ(s->compact_revision(), 0);
  EXPECT_EQ(s->applied_index(), RaftIndex(0));
  auto r = s->Range(RangeOf("a"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().revision, 1);
  EXPECT_TRUE(r.value().result.kvs.empty());
  EXPECT_EQ(r.value().result.count, 0);
}

TEST(RevisionTest, PutsBumpTheRevisionAndTrackVersions) {
  TestStore s;
  EXPECT_EQ(s.Put("a", "1"), 2);
  EXPECT_EQ(*s.Get("a"), (KeyValue{"a", 2, 2, 1, "1", 0}));
  EXPECT_EQ(s.Put("a", "2"), 3);
  EXPECT_EQ(*s.Get("a"), (KeyValue{"a", 2, 3, 2, "2", 0}));
  EXPECT_EQ(s.Put("b", "x"), 4);
  EXPECT_EQ(*s.Get("b"), (KeyValue{"b", 4, 4, 1, "x", 0}));
  EXPECT_EQ(s->revision(), 4);
}

TEST(RevisionTest, DeleteEndsAGenerationAndResetsTheVersion) {
  TestStore s;
  s.Put("a", "1");               // 2
  s.Put("a", "2");               // 3
  EXPECT_EQ(s.Delete("a"), 4);   // 4
  EXPECT_FALSE(s.Get("a").has_value());
  EXPECT_EQ(s.Put("a", "3"), 5);
  EXPECT_EQ(*s.Get("a"), (KeyValue{"a", 5, 5, 1, "3", 0}));
}

TEST(RevisionTest, DeletingNothingKeepsTheRevision) {
  TestStore s;
  s.Put("a", "1");
  ApplyResult r = s.MustApply(DeleteOf("zzz"));
  EXPECT_EQ(r.revision, 2);
  EXPECT_EQ(std::get<DeleteRangeResult>(r.result).deleted, 0);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(s->revision(), 2);
}

TEST(PutTest, PrevKvIsTheReplacedVersion) {
  TestStore s;
  PutRequest p = PutOf("a", "1");
  p.prev_kv = true;
  ApplyResult first = s.MustApply(p);
  EXPECT_FALSE(std::get<PutResult>(first.result).prev_kv.has_value());
  p.value = "2";
  ApplyResult second = s.MustApply(p);
  EXPECT_EQ(std::get<PutResult>(second.result).prev_kv, (KeyValue{"a", 2, 2, 1, "1", 0}));
  // Without the flag nothing is returned, though the event still carries it.
  ApplyResult third = s.MustApply(PutOf("a", "3"));
  EXPECT_FALSE(std::get<PutResult>(third.result).prev_kv.has_value());
  ASSERT_EQ(third.events.size(), 1u);
  EXPECT_EQ(third.events[0].prev_kv->value, "2");
}

TEST(PutTest, IgnoreValueKeepsTheValue) {
  TestStore s;
  s.Put("a", "keep");
  PutRequest p;
  p.key = "a";
  p.ignore_value = true;
  s.MustApply(p);
  EXPECT_EQ(*s.Get("a"), (KeyValue{"a", 2, 3, 2, "keep", 0}));
}

TEST(PutTest, IgnoreValueOrLeaseOnAMissingKeyFails) {
  TestStore s;
  PutRequest p;
  p.key = "nope";
  p.ignore_value = true;
  auto r = s.Apply(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kKeyNotFound);
  EXPECT_EQ(s->revision(), 1);
  EXPECT_EQ(s->applied_index(), RaftIndex(1));  // the entry is consumed all the same
  p.ignore_value = false;
  p.ignore_lease = true;
  EXPECT_EQ(s.Apply(p).error().code(), Errc::kKeyNotFound);
}

TEST(PutTest, ContradictoryFlagsAndEmptyKeysAreRejected) {
  TestStore s;
  s.Put("a", "1");
  PutRequest p = PutOf("a", "v");
  p.ignore_value = true;
  EXPECT_EQ(s.Apply(p).error().code(), Errc::kValueProvided);
  p = PutOf("a", "", 5);
  p.ignore_lease = true;
  EXPECT_EQ(s.Apply(p).error().code(), Errc::kLeaseProvided);
  EXPECT_EQ(s.Apply(PutOf("", "v")).error().code(), Errc::kEmptyKey);
  EXPECT_EQ(s.Apply(DeleteOf("")).error().code(), Errc::kEmptyKey);
  EXPECT_EQ(s->Range(RangeOf("")).error().code(), Errc::kEmptyKey);
  EXPECT_EQ(s->revision(), 2);
}

TEST(PutTest, UnknownLeaseIsRejected) {
  TestStore s;
  auto r = s.Apply(PutOf("a", "1", 77));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kLeaseNotFound);
  EXPECT_FALSE(s.Get("a").has_value());
}

TEST(DeleteTest, RangesPrefixesAndEverything) {
  TestStore s;
  for (const char* k : {"a", "ab", "abc", "b", "c"}) s.Put(k, "v");
  DeleteRangeRequest d = DeleteOf("ab", PrefixEnd("ab"));
  d.prev_kv = true;
  ApplyResult r = s.MustApply(d);
  const auto& dr = std::get<DeleteRangeResult>(r.result);
  EXPECT_EQ(dr.deleted, 2);
  EXPECT_EQ(KeysOf(dr.prev_kvs), (std::vector<std::string>{"ab", "abc"}));
  EXPECT_EQ(r.revision, 7);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].type, EventType::kDelete);
  EXPECT_EQ(r.events[0].kv, (KeyValue{"ab", 0, 7, 0, "", 0}));
  EXPECT_EQ(r.events[1].kv.mod_revision, 7);
  EXPECT_EQ(KeysOf(s.All()), (std::vector<std::string>{"a", "b", "c"}));

  // "\0" as range_end: every key from "b" on.
  EXPECT_EQ(std::get<DeleteRangeResult>(s.MustApply(DeleteOf("b", Zero())).result).deleted, 2);
  EXPECT_EQ(KeysOf(s.All()), (std::vector<std::string>{"a"}));
  // "\0" for both: every key.
  EXPECT_EQ(std::get<DeleteRangeResult>(s.MustApply(DeleteOf(Zero(), Zero())).result).deleted,
            1);
  EXPECT_TRUE(s.All().empty());
}

TEST(DeleteTest, WithoutPrevKvReturnsOnlyTheCount) {
  TestStore s;
  s.Put("a", "1");
  ApplyResult r = s.MustApply(DeleteOf("a"));
  EXPECT_EQ(std::get<DeleteRangeResult>(r.result), (DeleteRangeResult{1, {}}));
}

class RangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // rev 2..7
    s.Put("a", "3");
    s.Put("b", "1");
    s.Put("c", "2");
    s.Put("b", "5");
    s.Put("d\xff", "0");
    s.Put(std::string("d\0", 2), "4");
  }
  RangeResult Run(const RangeRequest& r) { return s.MustRange(r); }
  TestStore s;
};

TEST_F(RangeTest, SingleKeyRangeAndPrefix) {
  EXPECT_EQ(KeysOf(Run(RangeOf("b")).kvs), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(Run(RangeOf("bb")).kvs.empty());
  EXPECT_EQ(KeysOf(Run(RangeOf("b", "d")).kvs), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(KeysOf(Run(RangeOf("d", PrefixEnd("d"))).kvs),
            (std::vector<std::string>{std::string("d\0", 2), "d\xff"}));
  EXPECT_EQ(Run(RangeOf("c", Zero())).count, 3);
  EXPECT_EQ(Run(RangeOf(Zero(), Zero())).count, 5);
  EXPECT_TRUE(Run(RangeOf("c", "b")).kvs.empty());
  EXPECT_EQ(Run(RangeOf("c", "b")).count, 0);
}

TEST_F(RangeTest, LimitMoreAndCount) {
  RangeRequest r = RangeOf(Zero(), Zero());
  r.limit = 2;
  RangeResult res = Run(r);
  EXPECT_EQ(KeysOf(res.kvs), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(res.more);
  EXPECT_EQ(res.count, 5);
  r.limit = 5;
  res = Run(r);
  EXPECT_FALSE(res.more);
  EXPECT_EQ(res.kvs.size(), 5u);
}

TEST_F(RangeTest, CountOnlyAndKeysOnly) {
  RangeRequest r = RangeOf("a", "c");
  r.count_only = true;
  RangeResult res = Run(r);
  EXPECT_TRUE(res.kvs.empty());
  EXPECT_EQ(res.count, 2);
  EXPECT_FALSE(res.more);
  r.count_only = false;
  r.keys_only = true;
  res = Run(r);
  ASSERT_EQ(res.kvs.size(), 2u);
  EXPECT_EQ(res.kvs[1], (KeyValue{"b", 3, 5, 2, "", 0}));
}

TEST_F(RangeTest, FiltersApplyBeforeLimitButNotToCount) {
  RangeRequest r = RangeOf(Zero(), Zero());
  r.min_mod_revision = 4;
  EXPECT_EQ(KeysOf(Run(r).kvs),
            (std::vector<std::string>{"b", "c", std::string("d\0", 2), "d\xff"}));
  r.max_mod_revision = 5;
  EXPECT_EQ(KeysOf(Run(r).kvs), (std::vector<std::string>{"b", "c"}));
  r = RangeOf(Zero(), Zero());
  r.min_create_revision = 3;
  r.max_create_revision = 4;
  r.limit = 1;
  RangeResult res = Run(r);
  EXPECT_EQ(KeysOf(res.kvs), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(res.more);
  EXPECT_EQ(res.count, 5);
}

TEST_F(RangeTest, SortByEveryTarget) {
  auto sorted = [&](SortTarget t, SortOrder o) {
    RangeRequest r = RangeOf(Zero(), Zero());
    r.sort_target = t;
    r.sort_order = o;
    return KeysOf(Run(r).kvs);
  };
  const std::string d0("d\0", 2);
  const std::string dff = "d\xff";
  EXPECT_EQ(sorted(SortTarget::kKey, SortOrder::kDescend),
            (std::vector<std::string>{dff, d0, "c", "b", "a"}));
  EXPECT_EQ(sorted(SortTarget::kValue, SortOrder::kAscend),
            (std::vector<std::string>{dff, "c", "a", d0, "b"}));
  EXPECT_EQ(sorted(SortTarget::kValue, SortOrder::kDescend),
            (std::vector<std::string>{"b", d0, "a", "c", dff}));
  EXPECT_EQ(sorted(SortTarget::kCreate, SortOrder::kDescend),
            (std::vector<std::string>{d0, dff, "c", "b", "a"}));
  EXPECT_EQ(sorted(SortTarget::kMod, SortOrder::kAscend),
            (std::vector<std::string>{"a", "c", "b", dff, d0}));
  // Equal versions keep key order in both directions; a target without an order ascends.
  EXPECT_EQ(sorted(SortTarget::kVersion, SortOrder::kNone),
            (std::vector<std::string>{"a", "c", d0, dff, "b"}));
  EXPECT_EQ(sorted(SortTarget::kVersion, SortOrder::kDescend),
            (std::vector<std::string>{"b", "a", "c", d0, dff}));
}

TEST_F(RangeTest, SortThenLimit) {
  RangeRequest r = RangeOf(Zero(), Zero());
  r.sort_target = SortTarget::kValue;
  r.sort_order = SortOrder::kDescend;
  r.limit = 2;
  RangeResult res = Run(r);
  EXPECT_EQ(KeysOf(res.kvs), (std::vector<std::string>{"b", std::string("d\0", 2)}));
  EXPECT_EQ(res.kvs[0].value, "5");
  EXPECT_TRUE(res.more);
}

TEST_F(RangeTest, PastRevisions) {
  s.Delete("a");  // 8
  RangeRequest r = RangeOf(Zero(), Zero());
  r.revision = 3;
  EXPECT_EQ(KeysOf(Run(r).kvs), (std::vector<std::string>{"a", "b"}));
  r.revision = 4;
  RangeResult res = Run(r);
  EXPECT_EQ(res.kvs[1], (KeyValue{"b", 3, 3, 1, "1", 0}));
  r.revision = 7;
  EXPECT_EQ(Run(r).count, 5);
  r.revision = 8;
  EXPECT_EQ(Run(r).count, 4);
  r.revision = 1;
  EXPECT_EQ(Run(r).count, 0);
  // The header revision is always the current one.
  r.revision = 3;
  EXPECT_EQ(s->Range(r).value().revision, 8);
  r.revision = 9;
  EXPECT_EQ(s->Range(r).error().code(), Errc::kFutureRevision);
}

TEST(CompactionTest, ReadsBelowTheCompactionFail) {
  TestStore s;
  s.Put("a", "1");  // 2
  s.Put("a", "2");  // 3
  s.Put("b", "1");  // 4
  s.Delete("b");    // 5
  s.Put("c", "1");  // 6
  CompactRequest c;
  c.revision = 5;
  ApplyResult r = s.MustApply(c);
  EXPECT_EQ(r.revision, 6);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(s->compact_revision(), 5);
  EXPECT_EQ(s->revision(), 6);

  RangeRequest read = RangeOf(Zero(), Zero());
  read.revision = 4;
  auto below = s->Range(read);
  ASSERT_FALSE(below.ok());
  EXPECT_EQ(below.error().code(), Errc::kCompacted);
  EXPECT_STREQ(ErrcMessage(below.error().code()), "required revision has been compacted");
  read.revision = 5;
  EXPECT_EQ(KeysOf(s.MustRange(read).kvs), (std::vector<std::string>{"a"}));
  EXPECT_EQ(s.MustRange(read).kvs[0], (KeyValue{"a", 2, 3, 2, "2", 0}));
  EXPECT_EQ(KeysOf(s.All()), (std::vector<std::string>{"a", "c"}));
}

TEST(CompactionTest, RejectsOldAndFutureRevisions) {
  TestStore s;
  s.Put("a", "1");
  s.Put("a", "2");
  CompactRequest c;
  c.revision = 4;
  auto future = s.Apply(c);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code(), Errc::kFutureRevision);
  EXPECT_STREQ(ErrcMessage(Errc::kFutureRevision), "required revision is a future revision");
  c.revision = 3;
  s.MustApply(c);
  EXPECT_EQ(s.Apply(c).error().code(), Errc::kCompacted);
  c.revision = 2;
  EXPECT_EQ(s.Apply(c).error().code(), Errc::kCompacted);
  EXPECT_EQ(s->compact_revision(), 3);
}

TEST(CompactionTest, LatestVersionOfEveryLiveKeySurvives) {
  StoreOptions o;
  o.compaction_batch_keys = 2;  // several batches
  TestStore s(o);
  for (int round = 0; round < 5; ++round) {
    for (int k = 0; k < 7; ++k) s.Put("k" + std::to_string(k), std::to_string(round));
  }
  s.Delete("k3");
  const std::vector<KeyValue> before = s.All();
  CompactRequest c;
  c.revision = s->revision();
  s.MustApply(c);
  EXPECT_EQ(s.All(), before);
  RangeRequest at = RangeOf(Zero(), Zero());
  at.revision = c.revision;
  EXPECT_EQ(s.MustRange(at).kvs, before);
  // Survives a reopen too, and writes carry on from the same versions.
  s.Reopen();
  EXPECT_EQ(s.All(), before);
  s.Put("k0", "x");
  EXPECT_EQ(s.Get("k0")->version, 6);
  EXPECT_EQ(s.Get("k0")->create_revision, 2);
}

TEST(AppliedIndexTest, EveryEntryMovesItAndItSurvivesReopen) {
  TestStore s;
  s.Put("a", "1");
  ASSERT_TRUE(s->ApplyNoop(RaftIndex(5)).ok());
  EXPECT_EQ(s->applied_index(), RaftIndex(5));
  EXPECT_EQ(s.Apply(PutOf("b", "1", 9)).error().code(), Errc::kLeaseNotFound);
  EXPECT_EQ(s->applied_index(), RaftIndex(6));
  s.Reopen();
  EXPECT_EQ(s->applied_index(), RaftIndex(6));
  EXPECT_EQ(s->revision(), 2);
}

TEST(AppliedIndexDeathTest, ApplyingAnEntryTwiceIsABug) {
  // The forked child asserts before it touches RocksDB, whose threads fork does not copy; the
  // "threadsafe" style would re-run the test in the child and leave its directory behind.
  GTEST_FLAG_SET(death_test_style, "fast");
  TestStore s;
  s.Put("a", "1");
  EXPECT_DEATH((void)s->Apply(RaftIndex(1), PutOf("a", "2")), "applied twice");
}

TEST(KeyBytesTest, ZeroAndHighBytesInKeysAndValues) {
  TestStore s;
  const std::string k1("\0", 1);
  const std::string k2("\0\0", 2);
  const std::string k3("a\0b", 3);
  const std::string k4("\xff", 1);
  const std::string v("\0\xff\0", 3);
  for (const auto& k : {k4, k3, k2, k1}) s.Put(k, v);
  EXPECT_EQ(KeysOf(s.All()), (std::vector<std::string>{k1, k2, k3, k4}));
  EXPECT_EQ(s.Get(k3)->value, v);
  EXPECT_EQ(KeysOf(s.MustRange(RangeOf(k1, PrefixEnd(k1))).kvs),
            (std::vector<std::string>{k1, k2}));
}

}  // namespace
}  // namespace synod::mvcc
