// Randomized comparison with the reference model (model.h): random requests go to the store
// and to the model, and every answer must agree (results, errors, events, revisions), as must
// everything observable of the two (every revision since the compaction, history, leases).
// SYNOD_MVCC_SEEDS=N runs N seeds instead of the default; a failure names its seed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <functional>

#include "model.h"
#include "random_ops.h"
#include "test_util.h"

namespace synod::mvcc {
namespace {

using testing::Model;
using testing::Observe;
using testing::OpGenerator;
using testing::TestStore;

// How often each kind of answer came up, printed at the end so that a run shows which paths it
// covered (an error path never taken is a test that proves nothing about it).
std::map<std::string, int>& Coverage() {
  static std::map<std::string, int> counts;
  return counts;
}

template <typename T>
void ExpectSame(const Outcome<T>& store, const Outcome<T>& model, const char* what,
                const std::function<void(const T&, const T&)>& compare) {
  ++Coverage()[std::string(what) + (model.ok() ? " ok" : std::string(" error: ") +
                                                             ErrcMessage(model.error().code()))];
  ASSERT_EQ(store.ok(), model.ok())
      << what << ": store " << (store.ok() ? "ok" : store.error().ToString()) << ", model "
      << (model.ok() ? "ok" : model.error().ToString());
  if (store.ok()) {
    compare(store.value(), model.value());
  } else {
    EXPECT_EQ(store.error().code(), model.error().code()) << what;
  }
}

void SameApply(const ApplyResult& a, const ApplyResult& b) {
  if (!b.events.empty()) ++Coverage()["apply with events"];
  EXPECT_EQ(a.revision, b.revision);
  EXPECT_TRUE(a.result == b.result) << "apply results differ";
  EXPECT_EQ(a.events, b.events);
}

void RunSeed(uint64_t seed, int steps) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  OpGenerator gen(seed);
  StoreOptions options;
  options.compaction_batch_keys = gen.rng().Between(1, 4);
  // The apply path's in-memory copy of recent values (recent_values.h): off, so small that
  // it evicts on nearly every write, or the default.
  const size_t recent_sizes[] = {0, 2048, options.recent_values_bytes};
  options.recent_values_bytes = recent_sizes[gen.rng().Uniform(3)];
  TestStore store(options);
  Model model;
  for (int step = 0; step < steps && !::testing::Test::HasFatalFailure(); ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const int64_t current = model.revision();
    const int64_t compacted = model.compact_revision();
    const uint64_t roll = gen.rng().Uniform(100);
    if (roll < 55) {
      const WriteRequest w = gen.Write(current, compacted);
      ExpectSame<ApplyResult>(store.Apply(w), model.Apply(w), "apply", SameApply);
    } else if (roll < 80) {
      const RangeRequest r = gen.Range(current, compacted);
      ExpectSame<RangeResponse>(store->Range(r), model.Range(r), "range",
                                [](const RangeResponse& a, const RangeResponse& b) {
                                  EXPECT_EQ(a.revision, b.revision);
                                  EXPECT_EQ(a.result, b.result);
                                });
    } else if (roll < 88) {
      const TxnRequest t = gen.Txn(current, compacted, 2, /*read_only=*/true);
      ExpectSame<TxnResponse>(store->ReadTxn(t), model.ReadTxn(t), "read txn",
                              [](const TxnResponse& a, const TxnResponse& b) {
                                EXPECT_EQ(a.revision, b.revision);
                                EXPECT_TRUE(a.result == b.result) << "read txn results differ";
                              });
    } else if (roll < 97) {
      const EventsRequest e = gen.Events(current, compacted);
      ExpectSame<EventsResult>(store->ReadEvents(e), model.ReadEvents(e), "events",
                               [](const EventsResult& a, const EventsResult& b) {
                                 EXPECT_EQ(a.events, b.events);
                                 EXPECT_EQ(a.next_revision, b.next_revision);
                                 EXPECT_EQ(a.revision, b.revision);
                               });
    } else {
      store.Reopen();
    }
    if (step % 25 == 24) {
      ASSERT_EQ(Observe(*store), Observe(model));
    }
  }
  EXPECT_EQ(Observe(*store), Observe(model));
}

int SeedCount(int fallback) {
  const char* env = std::getenv("SYNOD_MVCC_SEEDS");
  return env != nullptr ? std::atoi(env) : fallback;
}

TEST(ModelTest, RandomHistoriesAgreeWithTheModel) {
  const int seeds = SeedCount(12);
  for (int seed = 1; seed <= seeds && !HasFailure(); ++seed) {
    RunSeed(static_cast<uint64_t>(seed), 400);
  }
  for (const auto& [what, count] : Coverage()) std::printf("  %6d  %s\n", count, what.c_str());
}

}  // namespace
}  // namespace synod::mvcc
