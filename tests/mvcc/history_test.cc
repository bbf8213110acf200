// History: the events Apply returns and ReadEvents replays, HashKV across replicas, and
// checkpoints.
#include <gtest/gtest.h>

#include "test_util.h"

namespace synod::mvcc {
namespace {

using testing::DeleteOf;
using testing::KeysOf;
using testing::Op;
using testing::PutOf;
using testing::TempDir;
using testing::TestStore;
using testing::Zero;

EventsResult Events(TestStore& s, int64_t from, int64_t to = 0, bool prev_kv = false,
                    size_t events_max = 1000) {
  EventsRequest r;
  r.start_revision = from;
  r.end_revision = to;
  r.prev_kv = prev_kv;
  r.events_max = events_max;
  auto result = s->ReadEvents(r);
  SYNOD_ASSERT(result.ok(), "ReadEvents failed");
  return std::move(result.value());
}

// Writes a small history: puts, overwrites, a range delete and a txn.
void WriteHistory(TestStore& s) {
  s.Put("a", "1");           // 2
  s.Put("b", "1");           // 3
  s.Put("a", "2");           // 4
  s.Delete("a", "c");        // 5: a, b
  TxnRequest t;
  t.success = {Op(PutOf("c", "1")), Op(PutOf("a", "3"))};
  s.MustApply(t);            // 6
}

TEST(EventsTest, ReplayMatchesWhatApplyReturned) {
  TestStore s;
  std::vector<Event> live;
  auto record = [&](const WriteRequest& r) {
    ApplyResult res = s.MustApply(r);
    live.insert(live.end(), res.events.begin(), res.events.end());
  };
  record(PutOf("a", "1"));
  record(PutOf("b", "1"));
  record(PutOf("a", "2"));
  record(DeleteOf("a", "c"));
  TxnRequest t;
  t.success = {Op(PutOf("c", "1")), Op(PutOf("a", "3"))};
  record(t);
  EXPECT_EQ(Events(s, 1, 0, /*prev_kv=*/true).events, live);
  EXPECT_EQ(live.size(), 7u);
  EXPECT_EQ(live[3].type, EventType::kDelete);
  EXPECT_EQ(live[3].kv, (KeyValue{"a", 0, 5, 0, "", 0}));
  EXPECT_EQ(live[3].prev_kv, (KeyValue{"a", 2, 4, 2, "2", 0}));
  EXPECT_FALSE(live[6].prev_kv.has_value());  // a was deleted before
}

TEST(EventsTest, SpansKeysAndPrevKv) {
  TestStore s;
  WriteHistory(s);
  EventsResult r = Events(s, 3, 4);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].kv.key, "b");
  EXPECT_FALSE(r.events[1].prev_kv.has_value());  // not asked for
  EXPECT_EQ(r.next_revision, 5);
  EXPECT_EQ(r.revision, 6);

  EventsRequest only_a;
  only_a.start_revision = 1;
  only_a.key = "a";
  only_a.range_end = "";
  auto a = s->ReadEvents(only_a);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().events.size(), 4u);
  for (const Event& e : a.value().events) EXPECT_EQ(e.kv.key, "a");

  EXPECT_TRUE(Events(s, 7).events.empty());
  EXPECT_EQ(Events(s, 7).next_revision, 7);
}

TEST(EventsTest, BatchesStopBetweenRevisions) {
  TestStore s;
  WriteHistory(s);
  // Revision 5 holds two events; a batch of two that starts at 4 cannot cut it.
  EventsResult r = Events(s, 4, 0, false, 2);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.next_revision, 6);
  r = Events(s, r.next_revision, 0, false, 2);
  EXPECT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.next_revision, 7);
}

TEST(EventsTest, CompactedHistory) {
  TestStore s;
  WriteHistory(s);
  CompactRequest c;
  c.revision = 5;
  s.MustApply(c);
  EventsRequest r;
  r.start_revision = 4;
  auto below = s->ReadEvents(r);
  ASSERT_FALSE(below.ok());
  EXPECT_EQ(below.error().code(), Errc::kCompacted);
  // From the compaction revision on, every event survives, deletions at it included.
  EventsResult from = Events(s, 5, 0, /*prev_kv=*/true);
  ASSERT_EQ(from.events.size(), 4u);
  EXPECT_EQ(from.events[0].type, EventType::kDelete);
  EXPECT_FALSE(from.events[0].prev_kv.has_value());  // at the compaction revision: unknown
  EXPECT_EQ(from.events[2].kv, (KeyValue{"c", 6, 6, 1, "1", 0}));
}

TEST(EventsTest, PrevKvAcrossACompaction) {
  TestStore s;
  s.Put("k", "old");  // 2
  s.Put("x", "1");    // 3
  CompactRequest c;
  c.revision = 3;
  s.MustApply(c);
  s.Put("k", "new");  // 4
  EventsResult r = Events(s, 4, 0, /*prev_kv=*/true);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].prev_kv, (KeyValue{"k", 2, 2, 1, "old", 0}));
}

TEST(HashTest, ReplicasWithTheSameHistoryAgree) {
  TestStore one;
  TestStore two;
  WriteHistory(one);
  WriteHistory(two);
  EXPECT_EQ(one->HashKV(0).value().hash, two->HashKV(0).value().hash);
  const uint32_t at4 = one->HashKV(4).value().hash;
  EXPECT_EQ(at4, two->HashKV(4).value().hash);
  EXPECT_NE(at4, one->HashKV(0).value().hash);
  two.Put("a", "diverge");
  EXPECT_NE(one->HashKV(0).value().hash, two->HashKV(0).value().hash);
  EXPECT_EQ(at4, two->HashKV(4).value().hash);  // the past does not change
  EXPECT_EQ(one->HashKV(9).error().code(), Errc::kFutureRevision);
}

TEST(HashTest, PhysicalCompactionProgressDoesNotChangeTheHash) {
  StoreOptions stopped;
  stopped.compaction_batch_keys = 1;
  stopped.testing_compaction_batches_max = 1;  // one key compacted, the rest pending
  TestStore one(stopped);
  TestStore two;
  for (TestStore* s : {&one, &two}) {
    for (int i = 0; i < 4; ++i) {
      for (const char* k : {"p", "q", "r"}) s->Put(k, std::to_string(i));
    }
    s->Delete("q");
    CompactRequest c;
    c.revision = (*s)->revision() - 1;
    s->MustApply(c);
  }
  const HashResult h1 = one->HashKV(0).value();
  const HashResult h2 = two->HashKV(0).value();
  EXPECT_EQ(h1.hash, h2.hash);
  EXPECT_EQ(h1.compact_revision, h2.compact_revision);
  EXPECT_EQ(one.All(), two.All());
  one.options().testing_compaction_batches_max = 0;
  one.Reopen();  // finishes the compaction
  EXPECT_EQ(one->HashKV(0).value().hash, h2.hash);
}

TEST(CheckpointTest, OpensAtTheStateItWasTaken) {
  TestStore s;
  WriteHistory(s);
  TempDir dir;
  auto info = s->CreateCheckpoint(dir.Sub("cp"));
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info.value().revision, 6);
  EXPECT_EQ(info.value().applied_index, s->applied_index());
  const std::vector<KeyValue> at_checkpoint = s.All();
  const uint32_t hash = s->HashKV(0).value().hash;
  s.Put("later", "1");

  StoreOptions o;
  o.path = dir.Sub("cp");
  auto copy = Store::Open(o);
  ASSERT_TRUE(copy.ok()) << copy.error().ToString();
  Store& c = *copy.value();
  EXPECT_EQ(c.revision(), 6);
  EXPECT_EQ(c.applied_index(), info.value().applied_index);
  EXPECT_EQ(c.HashKV(0).value().hash, hash);
  RangeRequest all;
  all.key = Zero();
  all.range_end = Zero();
  EXPECT_EQ(c.Range(all).value().result.kvs, at_checkpoint);
  // It carries on as a store of its own.
  auto applied = c.Apply(info.value().applied_index + 1, PutOf("after", "1"));
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied.value().revision, 7);
  EXPECT_EQ(s.Get("after"), std::nullopt);
  EXPECT_EQ(s->CreateCheckpoint(dir.Sub("cp")).ok(), false);  // never over an existing one
}

}  // namespace
}  // namespace synod::mvcc
