// Unit tests of the server's lease pieces: the Lessor under a hand-driven clock (grant, renew,
// expiry decided only by a leader, promotion, revokes in flight, bounds), lease ids, and the
// KV state machine's lease commands (grant, keep-alive, revoke, rebuild after restore/reopen).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "base/assert.h"
#include "server/command.pb.h"
#include "server/kv_machine.h"
#include "server/snapshot_files.h"
#include "server/lessor.h"
#include "test_files.h"

namespace synod::server {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A clock the test moves by hand.
struct ManualClock {
  LeaseTime now{0};
  LeaseClock Fn() {
    return [this] { return now; };
  }
  void Set(milliseconds t) { now = t; }
};

LessorOptions TestOptions() {
  LessorOptions o;
  o.ttl_seconds_min = 2;
  o.promotion_extension = seconds(1);
  o.revokes_per_tick_max = 100;
  return o;
}

TEST(Lessor, ExpiresOnlyOnTheLeaderAfterItsTtl) {
  ManualClock clock;
  Lessor lessor(TestOptions(), clock.Fn());
  lessor.Granted(1, 5);
  // A follower never hands out expired leases, however late it is.
  clock.Set(seconds(60));
  EXPECT_TRUE(lessor.Tick(/*leader=*/false, 1).empty());
  EXPECT_EQ(lessor.TimeToLive(1)->remaining_seconds, 0);

  ManualClock c2;
  Lessor leader(TestOptions(), c2.Fn());
  leader.Granted(1, 5);
  leader.Granted(2, 10);
  // Promotion at 0: expiries become 0 + TTL + 1 s.
  EXPECT_TRUE(leader.Tick(true, 1).empty());
  c2.Set(milliseconds(5999));
  EXPECT_TRUE(leader.Tick(true, 1).empty());
  c2.Set(seconds(6));
  EXPECT_EQ(leader.Tick(true, 1), std::vector<int64_t>{1});
  // In flight: not handed out again until it fails or is applied.
  c2.Set(seconds(7));
  EXPECT_TRUE(leader.Tick(true, 1).empty());
  leader.RevokeFailed(1);
  EXPECT_EQ(leader.Tick(true, 1), std::vector<int64_t>{1});
  leader.Revoked(1);
  EXPECT_FALSE(leader.TimeToLive(1).has_value());
  c2.Set(seconds(11));
  EXPECT_EQ(leader.Tick(true, 1), std::vector<int64_t>{2});
  EXPECT_EQ(leader.size(), 1u);
}

TEST(Lessor, KeepAliveRenewsFromNow) {
  ManualClock clock;
  Lessor lessor(TestOptions(), clock.Fn());
  EXPECT_TRUE(lessor.Tick(true, 1).empty());  // leader from the start
  lessor.Granted(7, 5);
  clock.Set(seconds(4));
  EXPECT_EQ(lessor.Refreshed(7), 5);
  EXPECT_EQ(lessor.TimeToLive(7)->remaining_seconds, 5);
  EXPECT_EQ(lessor.TimeToLive(7)->granted_seconds, 5);
  clock.Set(milliseconds(8999));
  EXPECT_TRUE(lessor.Tick(true, 1).empty());
  EXPECT_EQ(lessor.TimeToLive(7)->remaining_seconds, 0);  // 1 ms left: whole seconds, down
  clock.Set(seconds(9));
  EXPECT_EQ(lessor.Tick(true, 1), std::vector<int64_t>{7});
  // A keep-alive of a lease this member does not know answers 0.
  EXPECT_EQ(lessor.Refreshed(8), 0);
}

TEST(Lessor, PromotionExtendsEveryLeaseAtLeastToNowPlusTtl) {
  ManualClock clock;
  Lessor lessor(TestOptions(), clock.Fn());
  EXPECT_TRUE(lessor.Tick(false, 1).empty());
  lessor.Granted(1, 5);  // expires at 5 s in this member's view
  clock.Set(seconds(20));
  // Becomes leader long after: the lease gets TTL + extension from now, not an instant expiry.
  EXPECT_TRUE(lessor.Tick(true, 2).empty());
  EXPECT_GE(lessor.TimeToLive(1)->remaining_seconds, 5);
  clock.Set(milliseconds(25999));
  EXPECT_TRUE(lessor.Tick(true, 2).empty());
  // The same term does not promote again; the lease expires at 20 + 5 + 1.
  clock.Set(seconds(26));
  EXPECT_EQ(lessor.Tick(true, 2), std::vector<int64_t>{1});
  // Stepping down forgets the revoke in flight; a later leadership promotes again.
  EXPECT_TRUE(lessor.Tick(false, 3).empty());
  clock.Set(seconds(27));
  EXPECT_TRUE(lessor.Tick(true, 4).empty());
  clock.Set(seconds(33));
  EXPECT_EQ(lessor.Tick(true, 4), std::vector<int64_t>{1});
}

TEST(Lessor, PromotionNeverShortensAndRefreshNeverShortens) {
  ManualClock clock;
  Lessor lessor(TestOptions(), clock.Fn());
  lessor.Granted(1, 100);
  clock.Set(seconds(1));
  EXPECT_TRUE(lessor.Tick(true, 1).empty());  // 1 + 100 + 1 = 102 s
  EXPECT_EQ(lessor.TimeToLive(1)->remaining_seconds, 101);
  EXPECT_EQ(lessor.Refreshed(1), 100);  // 1 + 100 < 102: keeps 102
  EXPECT_EQ(lessor.TimeToLive(1)->remaining_seconds, 101);
}

TEST(Lessor, RevokesPerTickAreBoundedEarliestFirst) {
  ManualClock clock;
  LessorOptions o = TestOptions();
  o.revokes_per_tick_max = 100;
  Lessor lessor(o, clock.Fn());
  EXPECT_TRUE(lessor.Tick(true, 1).empty());
  for (int64_t id = 1; id <= 250; ++id) {
    clock.Set(milliseconds(1000 - id));  // later ids granted earlier: they expire first
    lessor.Granted(id, 2);
  }
  clock.Set(seconds(10));
  std::set<int64_t> seen;
  std::vector<int64_t> first = lessor.Tick(true, 1);
  ASSERT_EQ(first.size(), 100u);
  EXPECT_EQ(first.front(), 250);
  EXPECT_EQ(first.back(), 151);
  seen.insert(first.begin(), first.end());
  std::vector<int64_t> second = lessor.Tick(true, 1);
  EXPECT_EQ(second.size(), 100u);
  seen.insert(second.begin(), second.end());
  std::vector<int64_t> third = lessor.Tick(true, 1);
  EXPECT_EQ(third.size(), 50u);
  seen.insert(third.begin(), third.end());
  EXPECT_EQ(seen.size(), 250u);  // each once
  EXPECT_TRUE(lessor.Tick(true, 1).empty());
}

TEST(Lessor, ResetRebuildsFromTheStoreAndTtlHasAMinimum) {
  ManualClock clock;
  Lessor lessor(TestOptions(), clock.Fn());
  lessor.Granted(1, 5);
  clock.Set(seconds(3));
  lessor.Reset({mvcc::Lease{2, 30}, mvcc::Lease{3, 4}});
  EXPECT_FALSE(lessor.TimeToLive(1).has_value());
  EXPECT_EQ(lessor.TimeToLive(2)->remaining_seconds, 30);
  EXPECT_EQ(lessor.TimeToLive(3)->granted_seconds, 4);
  EXPECT_EQ(lessor.size(), 2u);
  EXPECT_EQ(lessor.EffectiveTtl(0), 2);
  EXPECT_EQ(lessor.EffectiveTtl(-5), 2);
  EXPECT_EQ(lessor.EffectiveTtl(1), 2);
  EXPECT_EQ(lessor.EffectiveTtl(60), 60);
  EXPECT_EQ(lessor.EffectiveTtl(kLeaseTtlSecondsMax), kLeaseTtlSecondsMax);
}

TEST(LeaseIds, PositiveDistinctAndPerMember) {
  LeaseIdGenerator a(0x1234, 1'800'000'000);
  LeaseIdGenerator b(0x1235, 1'800'000'000);
  std::set<int64_t> ids;
  for (int i = 0; i < 1000; ++i) {
    for (int64_t id : {a.Next(), b.Next()}) {
      EXPECT_GT(id, 0);
      EXPECT_TRUE(ids.insert(id).second) << id;
    }
  }
  // A restart a second later starts past what 2^16 grants a second would have used.
  LeaseIdGenerator later(0x1234, 1'800'000'001);
  EXPECT_GT(later.Next(), a.Next());
}

// ---- KvMachine's lease commands -------------------------------------------------------------

using cluster_test::TempDir;

std::string Grant(int64_t id, int64_t ttl) {
  serverpb::Command c;
  c.mutable_lease_grant()->set_id(id);
  c.mutable_lease_grant()->set_ttl(ttl);
  return c.SerializeAsString();
}

std::string Revoke(int64_t id) {
  serverpb::Command c;
  c.mutable_lease_revoke()->set_id(id);
  return c.SerializeAsString();
}

std::string KeepAlive(int64_t id) {
  serverpb::Command c;
  c.mutable_lease_keep_alive()->set_id(id);
  return c.SerializeAsString();
}

std::string PutWithLease(const std::string& key, int64_t lease) {
  serverpb::Command c;
  c.mutable_put()->set_key(key);
  c.mutable_put()->set_value("v");
  c.mutable_put()->set_lease(lease);
  return c.SerializeAsString();
}

ApplyOutcome Outcome(const std::any& r) {
  const auto* out = std::any_cast<ApplyOutcome>(&r);
  SYNOD_ASSERT(out != nullptr, "lease grants and revokes apply to an ApplyOutcome");
  return *out;
}

int64_t Keys(const KvMachine& m) {
  auto got = m.Read([](const mvcc::Store& s) {
    mvcc::RangeRequest req;
    req.key = std::string(1, '\0');
    req.range_end = std::string(1, '\0');
    req.count_only = true;
    return s.Range(req);
  });
  EXPECT_TRUE(got.ok());
  return got.value().result.count;
}

TEST(KvMachineLeases, GrantKeepAliveRevokeAndRebuild) {
  TempDir dir;
  ManualClock clock;
  Lessor lessor(TestOptions(), clock.Fn());
  KvMachineOptions o;
  o.dir = dir.path() + "/a/kv";
  o.lessor = &lessor;
  fs::create_directories(dir.path() + "/a");
  auto opened = KvMachine::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  KvMachine& m = *opened.value();

  ASSERT_TRUE(Outcome(m.Apply(raft::LogIndex(1), Grant(7, 10))).ok());
  EXPECT_EQ(lessor.TimeToLive(7)->granted_seconds, 10);
  // A duplicate id is the request's answer; the first grant stands.
  const ApplyOutcome dup = Outcome(m.Apply(raft::LogIndex(2), Grant(7, 99)));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), mvcc::Errc::kLeaseExists);
  EXPECT_EQ(lessor.TimeToLive(7)->granted_seconds, 10);
  ASSERT_TRUE(Outcome(m.Apply(raft::LogIndex(3), PutWithLease("a", 7))).ok());
  ASSERT_TRUE(Outcome(m.Apply(raft::LogIndex(4), PutWithLease("b", 7))).ok());
  EXPECT_FALSE(Outcome(m.Apply(raft::LogIndex(5), PutWithLease("c", 8))).ok());  // no lease 8

  clock.Set(seconds(6));
  std::any ka = m.Apply(raft::LogIndex(6), KeepAlive(7));
  const auto* kept = std::any_cast<KeepAliveOutcome>(&ka);
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->ttl_seconds, 10);
  EXPECT_EQ(kept->revision, 3);  // two puts after the empty store's revision 1
  EXPECT_EQ(lessor.TimeToLive(7)->remaining_seconds, 10);
  EXPECT_EQ(m.AppliedIndex(), raft::LogIndex(6));
  std::any none = m.Apply(raft::LogIndex(7), KeepAlive(8));
  EXPECT_EQ(std::any_cast<KeepAliveOutcome>(none).ttl_seconds, 0);

  // A snapshot installed elsewhere rebuilds that member's lessor from the store.
  auto descriptor = m.Snapshot();
  ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  auto image = ReadSnapshotFile(m.snapshots_dir(), descriptor.value());  // what a peer is sent
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ManualClock clock_b;
  Lessor lessor_b(TestOptions(), clock_b.Fn());
  KvMachineOptions ob = o;
  ob.dir = dir.path() + "/b/kv";
  ob.lessor = &lessor_b;
  fs::create_directories(dir.path() + "/b");
  auto b = KvMachine::Open(ob);
  ASSERT_TRUE(b.ok());
  lessor_b.Granted(99, 5);  // stale state the snapshot replaces
  ASSERT_TRUE(b.value()->Restore(image.value(), raft::LogIndex(7)).ok());
  EXPECT_EQ(lessor_b.size(), 1u);
  EXPECT_EQ(lessor_b.TimeToLive(7)->granted_seconds, 10);
  EXPECT_FALSE(lessor_b.TimeToLive(99).has_value());

  // Revoke deletes the attached keys at one revision and the lease from the lessor.
  const ApplyOutcome revoked = Outcome(m.Apply(raft::LogIndex(8), Revoke(7)));
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(std::get<mvcc::LeaseRevokeResult>(revoked.value().result).deleted, 2);
  EXPECT_EQ(revoked.value().revision, 4);
  EXPECT_EQ(Keys(m), 0);
  EXPECT_FALSE(lessor.TimeToLive(7).has_value());
  const ApplyOutcome again = Outcome(m.Apply(raft::LogIndex(9), Revoke(7)));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), mvcc::Errc::kLeaseNotFound);

  // Reopening the restored member's store rebuilds its lessor the same way.
  b.value().reset();
  Lessor lessor_c(TestOptions(), clock_b.Fn());
  ob.lessor = &lessor_c;
  auto c = KvMachine::Open(ob);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(lessor_c.size(), 1u);
  EXPECT_EQ(Keys(*c.value()), 2);
}

}  // namespace
}  // namespace synod::server
