// The watch hub over a real MVCC store, without threads: the test applies entries, announces
// them to the hub as KvMachine does, runs the hub's worker steps (Sync, NotifyProgress) itself
// and reads each stream's queue.
#include "server/watch_hub.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "mvcc/test_util.h"

namespace synod::server {
namespace {

using mvcc::EventType;
using mvcc::testing::TestStore;

const std::string kAll(1, '\0');

class WatchHubTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeHub(WatchHubOptions{}); }

  void MakeHub(WatchHubOptions o) {
    WatchHistory h;
    h.read_events = [this](const mvcc::EventsRequest& r) { return store_->ReadEvents(r); };
    h.compact_revision = [this] { return store_->compact_revision(); };
    hub_ = std::make_unique<WatchHub>(o, std::move(h));
    hub_->OnReset(store_->revision());
  }

  // Applies `request` and announces its events, as KvMachine::Apply does.
  int64_t Apply(const mvcc::WriteRequest& request, bool announce = true) {
    mvcc::ApplyResult a = store_.MustApply(request);
    if (announce && !a.events.empty()) hub_->OnApply(a.revision, a.events);
    last_ = a;
    for (const mvcc::Event& e : a.events) history_.push_back(e);
    return a.revision;
  }
  int64_t Put(const std::string& k, const std::string& v, bool announce = true) {
    mvcc::PutRequest p;
    p.key = k;
    p.value = v;
    return Apply(p, announce);
  }
  int64_t Del(const std::string& k, const std::string& end = "") {
    mvcc::DeleteRangeRequest d;
    d.key = k;
    d.range_end = end;
    return Apply(d);
  }

  static WatchCreate Watch(const std::string& key, const std::string& end = "", int64_t start = 0) {
    WatchCreate c;
    c.key = key;
    c.range_end = end;
    c.start_revision = start;
    return c;
  }

  std::vector<WatchEvents> Drain(WatchStream& s) {
    std::vector<WatchEvents> out;
    while (auto r = hub_->Pop(s)) out.push_back(std::move(*r));
    return out;
  }

  // Runs the worker's catch-up until nothing is left to do, popping what it queues.
  std::vector<WatchEvents> SyncAll(WatchStream& s) {
    std::vector<WatchEvents> out;
    for (int i = 0; i < 10000; ++i) {
      auto got = Drain(s);
      out.insert(out.end(), got.begin(), got.end());
      if (!hub_->Sync() && hub_->unsynced_watchers() == 0) break;
    }
    auto got = Drain(s);
    out.insert(out.end(), got.begin(), got.end());
    return out;
  }

  TestStore store_;
  std::unique_ptr<WatchHub> hub_;
  std::vector<mvcc::Event> history_;  // every event applied, in order
  mvcc::ApplyResult last_;            // the last entry applied
};

// (revision, key, type) of every event of watcher `id`, in the order received.
std::vector<std::tuple<int64_t, std::string, EventType>> EventsOf(
    const std::vector<WatchEvents>& rs, int64_t id) {
  std::vector<std::tuple<int64_t, std::string, EventType>> out;
  for (const WatchEvents& r : rs) {
    if (r.watch_id != id) continue;
    for (const auto& e : r.events) out.emplace_back(e->kv.mod_revision, e->kv.key, e->type);
  }
  return out;
}

TEST_F(WatchHubTest, CreatedFirstThenSyncedEventsOfTheKey) {
  auto s = hub_->OpenStream(nullptr);
  const int64_t before = store_->revision();
  hub_->Create(*s, Watch("a"));
  const int64_t r1 = Put("a", "1");
  Put("b", "2");
  const int64_t r3 = Put("a", "3");
  auto got = Drain(*s);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].created);
  EXPECT_EQ(got[0].watch_id, 0);
  EXPECT_EQ(got[0].revision, before);
  ASSERT_EQ(got[1].events.size(), 1u);
  EXPECT_EQ(got[1].revision, r1);
  EXPECT_EQ(got[1].events[0]->kv.value, "1");
  EXPECT_EQ(got[2].revision, r3);
  EXPECT_EQ(got[2].events[0]->kv.version, 2);
  EXPECT_EQ(hub_->revision(), r3);
}

TEST_F(WatchHubTest, RangesPrefixesAndAllKeys) {
  auto s = hub_->OpenStream(nullptr);
  hub_->Create(*s, Watch("b", "d"));    // id 0
  hub_->Create(*s, Watch("p/", "p0"));  // id 1: prefix p/
  hub_->Create(*s, Watch("", kAll));    // id 2: every key
  hub_->Create(*s, Watch("c", kAll));   // id 3: keys >= c
  for (const char* k : {"a", "b", "c", "d", "p/x", "p0"}) Put(k, "v");
  auto got = Drain(*s);
  auto keys = [&](int64_t id) {
    std::vector<std::string> out;
    for (auto& [rev, key, type] : EventsOf(got, id)) out.push_back(key);
    return out;
  };
  EXPECT_EQ(keys(0), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(keys(1), (std::vector<std::string>{"p/x"}));
  EXPECT_EQ(keys(2), (std::vector<std::string>{"a", "b", "c", "d", "p/x", "p0"}));
  EXPECT_EQ(keys(3), (std::vector<std::string>{"c", "d", "p/x", "p0"}));
}

TEST_F(WatchHubTest, FiltersAndPrevKv) {
  auto s = hub_->OpenStream(nullptr);
  WatchCreate no_put = Watch("k");
  no_put.no_put = true;
  no_put.prev_kv = true;
  WatchCreate no_delete = Watch("k");
  no_delete.no_delete = true;
  hub_->Create(*s, no_put);     // 0
  hub_->Create(*s, no_delete);  // 1
  Put("k", "old");
  Put("k", "new");
  const int64_t del = Del("k");
  auto got = Drain(*s);
  auto deletes = EventsOf(got, 0);
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(std::get<0>(deletes[0]), del);
  EXPECT_EQ(std::get<2>(deletes[0]), EventType::kDelete);
  for (const WatchEvents& r : got) {
    if (r.watch_id != 0 || r.events.empty()) continue;
    EXPECT_TRUE(r.prev_kv);
    ASSERT_TRUE(r.events[0]->prev_kv.has_value());
    EXPECT_EQ(r.events[0]->prev_kv->value, "new");
  }
  auto puts = EventsOf(got, 1);
  ASSERT_EQ(puts.size(), 2u);
  EXPECT_EQ(std::get<2>(puts[1]), EventType::kPut);
}

TEST_F(WatchHubTest, StartInThePastReplaysHistoryThenFollows) {
  const int64_t r1 = Put("a", "1");
  Put("a", "2");
  Put("a", "3");
  auto s = hub_->OpenStream(nullptr);
  hub_->Create(*s, Watch("a", "", r1 + 1));
  EXPECT_EQ(hub_->unsynced_watchers(), 1u);
  Put("a", "4");  // applied while unsynced: comes from the history read
  auto got = SyncAll(*s);
  EXPECT_EQ(hub_->unsynced_watchers(), 0u);
  const int64_t r5 = Put("a", "5");
  auto more = Drain(*s);
  got.insert(got.end(), more.begin(), more.end());
  ASSERT_TRUE(got[0].created);
  std::vector<int64_t> revs;
  for (auto& [rev, key, type] : EventsOf(got, 0)) revs.push_back(rev);
  EXPECT_EQ(revs, (std::vector<int64_t>{r1 + 1, r1 + 2, r1 + 3, r5}));
}

// The worker's read runs outside the lock, so it may see an entry the store has applied but
// whose OnApply has not come yet: that revision must not be delivered twice.
TEST_F(WatchHubTest, CatchUpReadThatOvertakesOnApplyIsNotRepeated) {
  const int64_t r1 = Put("a", "1");
  auto s = hub_->OpenStream(nullptr);
  hub_->Create(*s, Watch("a", "", r1));
  const int64_t r2 = Put("a", "2", /*announce=*/false);
  const mvcc::ApplyResult pending = last_;
  EXPECT_FALSE(hub_->Sync());  // reads r1 and r2, and is then synced
  EXPECT_EQ(hub_->unsynced_watchers(), 0u);
  hub_->OnApply(pending.revision, pending.events);  // late: already delivered
  const int64_t r3 = Put("a", "3");
  std::vector<int64_t> revs;
  for (auto& [rev, key, type] : EventsOf(Drain(*s), 0)) revs.push_back(rev);
  EXPECT_EQ(revs, (std::vector<int64_t>{r1, r2, r3}));
}

TEST_F(WatchHubTest, StartInTheFutureWaitsForIt) {
  const int64_t now = store_->revision();
  auto s = hub_->OpenStream(nullptr);
  hub_->Create(*s, Watch("a", "", now + 3));
  EXPECT_EQ(hub_->unsynced_watchers(), 0u);
  Put("a", "1");
  Put("a", "2");
  const int64_t r3 = Put("a", "3");
  EXPECT_EQ(r3, now + 3);
  auto got = Drain(*s);
  auto evs = EventsOf(got, 0);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(std::get<0>(evs[0]), r3);
}

TEST_F(WatchHubTest, CompactedStartIsCancelledWithTheCompactRevision) {
  for (int i = 0; i < 5; ++i) Put("a", std::to_string(i));
  const int64_t at = store_->revision() - 1;
  Apply(mvcc::CompactRequest{at});
  auto s = hub_->OpenStream(nullptr);
  hub_->Create(*s, Watch("a", "", at - 2));
  hub_->Create(*s, Watch("a", "", at));  // exactly at the compaction: still served
  auto got = SyncAll(*s);
  ASSERT_GE(got.size(), 3u);
  EXPECT_TRUE(got[0].created);
  EXPECT_TRUE(got[1].created);
  bool cancelled = false;
  for (const WatchEvents& r : got) {
    if (r.watch_id == 0 && r.canceled) {
      cancelled = true;
      EXPECT_EQ(r.compact_revision, at);
      EXPECT_TRUE(r.events.empty());
    }
  }
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(EventsOf(got, 1).size(), 2u);  // revisions at and at + 1
  EXPECT_EQ(hub_->watchers(), 1u);
}

TEST_F(WatchHubTest, SlowWatcherFallsBehindAndCatchesUpWithoutLossOrDuplicates) {
  WatchHubOptions o;
  o.stream_responses_max = 4;
  o.sync_events_max = 7;
  o.catchup_response_bytes_max = 1;  // every catch-up response holds one revision
  MakeHub(o);
  auto s = hub_->OpenStream(nullptr);
  hub_->Create(*s, Watch("k/", "k0"));
  std::vector<int64_t> expected;
  for (int i = 0; i < 100; ++i) expected.push_back(Put("k/" + std::to_string(i % 10), "v"));
  EXPECT_EQ(hub_->unsynced_watchers(), 1u);
  // The queue stayed bounded: `created` and the first revisions only.
  auto got = Drain(*s);
  EXPECT_LE(got.size(), o.stream_responses_max);
  // Catch up while writes go on: every revision exactly once, in order.
  std::mt19937 rng(7);
  for (int round = 0; round < 1000 && (hub_->unsynced_watchers() > 0 || round < 50); ++round) {
    if (rng() % 3 == 0) expected.push_back(Put("k/" + std::to_string(rng() % 10), "w"));
    if (rng() % 2 == 0) (void)hub_->Sync();
    if (rng() % 2 == 0) {
      auto more = Drain(*s);
      got.insert(got.end(), more.begin(), more.end());
    }
  }
  auto rest = SyncAll(*s);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(hub_->unsynced_watchers(), 0u);
  std::vector<int64_t> revs;
  for (auto& [rev, key, type] : EventsOf(got, 0)) revs.push_back(rev);
  EXPECT_EQ(revs, expected);
  for (const WatchEvents& r : got) {
    if (r.events.empty()) continue;
    EXPECT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.revision, r.events.back()->kv.mod_revision);
  }
}

TEST_F(WatchHubTest, CancelStopsEventsAndUnknownIdsAreIgnored) {
  auto s = hub_->OpenStream(nullptr);
  hub_->Create(*s, Watch("a"));
  Put("a", "1");
  hub_->Cancel(*s, 0);
  hub_->Cancel(*s, 42);
  Put("a", "2");
  auto got = Drain(*s);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].events.size(), 1u);
  EXPECT_TRUE(got[2].canceled);
  EXPECT_EQ(got[2].watch_id, 0);
  EXPECT_EQ(hub_->watchers(), 0u);
}

TEST_F(WatchHubTest, IdsLimitsAndBadRequests) {
  WatchHubOptions o;
  o.watchers_per_stream_max = 3;
  o.watchers_max = 4;
  MakeHub(o);
  auto s = hub_->OpenStream(nullptr);
  WatchCreate explicit_id = Watch("a");
  explicit_id.watch_id = 1;
  hub_->Create(*s, explicit_id);  // 1
  hub_->Create(*s, Watch("a"));   // 0
  hub_->Create(*s, Watch("a"));   // 2 (1 is taken)
  hub_->Create(*s, Watch("a"));   // over the stream's limit
  auto got = Drain(*s);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].watch_id, 1);
  EXPECT_EQ(got[1].watch_id, 0);
  EXPECT_EQ(got[2].watch_id, 2);
  EXPECT_EQ(got[3].watch_id, kNoWatchId);
  EXPECT_TRUE(got[3].created && got[3].canceled);
  EXPECT_NE(got[3].cancel_reason.find("too many watchers"), std::string::npos);

  auto t = hub_->OpenStream(nullptr);
  hub_->Create(*t, Watch("a"));  // the member's 4th
  hub_->Create(*t, Watch("a"));  // over the member's limit
  hub_->Cancel(*t, 0);
  hub_->Create(*t, explicit_id);
  hub_->Create(*t, explicit_id);      // duplicate id
  hub_->Create(*t, Watch("b", "a"));  // empty range
  got = Drain(*t);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_FALSE(got[0].canceled);
  EXPECT_TRUE(got[1].canceled);
  EXPECT_TRUE(got[2].canceled);
  EXPECT_EQ(got[3].watch_id, 1);
  EXPECT_FALSE(got[3].canceled);
  EXPECT_EQ(got[4].cancel_reason, "mvcc: duplicate watch ID provided on the WatchStream");
  EXPECT_EQ(got[5].cancel_reason, "mvcc: watcher range is empty");
  hub_->CloseStream(s);
  EXPECT_EQ(hub_->watchers(), 1u);
}

TEST_F(WatchHubTest, ProgressNeverClaimsWhatAnUnsyncedWatcherLacks) {
  const int64_t r1 = Put("a", "1");
  Put("a", "2");
  auto s = hub_->OpenStream(nullptr);
  hub_->Create(*s, Watch("z"));
  hub_->RequestProgress(*s);
  hub_->Create(*s, Watch("a", "", r1));
  hub_->RequestProgress(*s);
  auto got = Drain(*s);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[1].watch_id, kNoWatchId);
  EXPECT_EQ(got[1].revision, store_->revision());
  EXPECT_EQ(got[3].revision, r1 - 1);
  (void)SyncAll(*s);
  hub_->RequestProgress(*s);
  got = Drain(*s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].revision, store_->revision());

  // progress_notify: only watchers that got nothing since the last round.
  WatchCreate notify = Watch("n");
  notify.progress_notify = true;
  hub_->Create(*s, notify);  // id 2
  hub_->Create(*s, [&] {
    auto c = Watch("m");
    c.progress_notify = true;
    return c;
  }());  // 3
  Put("m", "x");
  (void)Drain(*s);
  hub_->NotifyProgress();
  got = Drain(*s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].watch_id, 2);
  EXPECT_EQ(got[0].revision, store_->revision());
  hub_->NotifyProgress();
  EXPECT_EQ(Drain(*s).size(), 2u);
}

TEST_F(WatchHubTest, ResetAfterSnapshotReadsTheUnannouncedRevisions) {
  auto s = hub_->OpenStream(nullptr);
  hub_->Create(*s, Watch("a"));
  const int64_t r1 = Put("a", "1");
  // A snapshot install: the store moves on without OnApply.
  const int64_t r2 = Put("a", "2", /*announce=*/false);
  const int64_t r3 = Put("a", "3", /*announce=*/false);
  hub_->OnReset(store_->revision());
  EXPECT_EQ(hub_->unsynced_watchers(), 1u);
  auto got = SyncAll(*s);
  const int64_t r4 = Put("a", "4");
  auto more = Drain(*s);
  got.insert(got.end(), more.begin(), more.end());
  std::vector<int64_t> revs;
  for (auto& [rev, key, type] : EventsOf(got, 0)) revs.push_back(rev);
  EXPECT_EQ(revs, (std::vector<int64_t>{r1, r2, r3, r4}));
}

TEST_F(WatchHubTest, WakeCallsTheStreamsThatGotResponses) {
  int woken_a = 0;
  int woken_b = 0;
  auto a = hub_->OpenStream([&] { ++woken_a; });
  auto b = hub_->OpenStream([&] { ++woken_b; });
  hub_->Create(*a, Watch("x"));
  (void)Drain(*a);
  hub_->Wake();
  woken_a = 0;
  Put("x", "1");
  Put("x", "2");  // the queue is not empty: no second wake
  hub_->Wake();
  EXPECT_EQ(woken_a, 1);
  EXPECT_EQ(woken_b, 0);
  hub_->Close();
  EXPECT_EQ(woken_b, 1);  // told to finish
  EXPECT_TRUE(hub_->Finished(*b));
  EXPECT_FALSE(hub_->Finished(*a));  // two responses still to send
  (void)Drain(*a);
  EXPECT_TRUE(hub_->Finished(*a));
  EXPECT_EQ(hub_->OpenStream(nullptr), nullptr);
}

// Random watchers, writes, catch-up steps and reads on small queues: each watcher receives
// exactly the history's events for its range from its start, in order, with prev_kv.
TEST_F(WatchHubTest, RandomInterleavingsDeliverExactHistories) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    std::mt19937 rng(seed);
    WatchHubOptions o;
    o.stream_responses_max = 1 + rng() % 4;
    o.sync_events_max = 1 + rng() % 5;
    o.catchup_response_bytes_max = rng() % 2 == 0 ? 1 : 200;
    MakeHub(o);
    history_.clear();
    const int64_t base = store_->revision();
    struct Spec {
      std::shared_ptr<WatchStream> stream;
      WatchCreate create;
    };
    std::vector<Spec> specs;
    std::map<uint64_t, std::vector<WatchEvents>> received;  // by spec index
    auto keyname = [&] { return std::string(1, static_cast<char>('a' + rng() % 6)); };
    for (int step = 0; step < 600; ++step) {
      const uint32_t op = rng() % 10;
      if (op < 4) {
        Put(keyname(), std::to_string(step));
      } else if (op == 4) {
        Del(keyname(), rng() % 2 ? "" : "e");
      } else if (op == 5 && specs.size() < 12) {
        Spec sp;
        sp.stream = hub_->OpenStream(nullptr);
        const std::string k = keyname();
        sp.create = Watch(k, rng() % 2 ? "" : (rng() % 2 ? kAll : "d"), 0);
        if (sp.create.range_end == "d" && k >= "d") sp.create.range_end = kAll;
        const int64_t now = store_->revision();
        // From now on, or from a revision of this round's history.
        sp.create.start_revision = now + 1;
        if (now > base && rng() % 3 != 0) {
          sp.create.start_revision = base + 1 + static_cast<int64_t>(rng() % (now - base));
        }
        sp.create.prev_kv = rng() % 2;
        hub_->Create(*sp.stream, sp.create);
        specs.push_back(sp);
      } else if (op <= 7) {
        (void)hub_->Sync();
      } else if (!specs.empty()) {
        const size_t i = rng() % specs.size();
        auto got = Drain(*specs[i].stream);
        received[i].insert(received[i].end(), got.begin(), got.end());
      }
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      auto got = SyncAll(*specs[i].stream);
      received[i].insert(received[i].end(), got.begin(), got.end());
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " watcher " + std::to_string(i));
      const WatchCreate& c = specs[i].create;
      std::vector<mvcc::Event> want;
      for (const mvcc::Event& e : history_) {
        const bool in = c.range_end.empty()
                            ? e.kv.key == c.key
                            : e.kv.key >= c.key && (c.range_end == kAll || e.kv.key < c.range_end);
        if (in && e.kv.mod_revision >= c.start_revision && e.kv.mod_revision > base) {
          want.push_back(e);
        }
      }
      std::vector<mvcc::Event> have;
      ASSERT_FALSE(received[i].empty());
      EXPECT_TRUE(received[i][0].created);
      for (const WatchEvents& r : received[i]) {
        for (const auto& e : r.events) {
          mvcc::Event copy = *e;
          if (!r.prev_kv) copy.prev_kv.reset();
          have.push_back(copy);
        }
      }
      if (!c.prev_kv) {
        for (mvcc::Event& e : want) e.prev_kv.reset();
      }
      EXPECT_EQ(have, want);
    }
  }
}

}  // namespace
}  // namespace synod::server
