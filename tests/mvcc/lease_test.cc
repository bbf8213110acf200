// Leases in the key space: grants persist, keys attach and move between leases, and a revoke
// deletes every attached key at one revision.
#include <gtest/gtest.h>

#include "test_util.h"

namespace synod::mvcc {
namespace {

using testing::DeleteOf;
using testing::KeysOf;
using testing::PutOf;
using testing::TestStore;

void Grant(TestStore& s, int64_t id, int64_t ttl) {
  LeaseGrantRequest g;
  g.id = id;
  g.ttl_seconds = ttl;
  s.MustApply(g);
}

std::vector<std::string> Attached(TestStore& s, int64_t id) {
  auto keys = s->LeaseKeys(id);
  SYNOD_ASSERT(keys.ok(), "LeaseKeys failed");
  return keys.value();
}

TEST(LeaseTest, GrantsPersistAndDoNotBumpTheRevision) {
  TestStore s;
  Grant(s, 7, 30);
  Grant(s, 3, 10);
  EXPECT_EQ(s->revision(), 1);
  LeaseGrantRequest again;
  again.id = 7;
  again.ttl_seconds = 5;
  EXPECT_EQ(s.Apply(again).error().code(), Errc::kLeaseExists);
  LeaseGrantRequest zero;
  EXPECT_EQ(s.Apply(zero).error().code(), Errc::kInvalidArgument);
  s.Reopen();
  EXPECT_EQ(s->Leases().value(), (std::vector<Lease>{{3, 10}, {7, 30}}));
}

TEST(LeaseTest, KeysAttachDetachAndMove) {
  TestStore s;
  Grant(s, 1, 60);
  Grant(s, 2, 60);
  s.Put("a", "v", 1);
  s.Put("b", "v", 1);
  s.Put("c", "v", 2);
  EXPECT_EQ(s.Get("a")->lease, 1);
  EXPECT_EQ(Attached(s, 1), (std::vector<std::string>{"a", "b"}));
  s.Put("b", "v2", 2);  // moves b to lease 2
  s.Put("c", "v2");     // detaches c
  EXPECT_EQ(Attached(s, 1), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Attached(s, 2), (std::vector<std::string>{"b"}));
  PutRequest keep;
  keep.key = "b";
  keep.value = "v3";
  keep.ignore_lease = true;
  s.MustApply(keep);
  EXPECT_EQ(s.Get("b")->lease, 2);
  s.Delete("b");
  EXPECT_TRUE(Attached(s, 2).empty());
}

TEST(LeaseTest, RevokeDeletesAttachedKeysInOneRevision) {
  TestStore s;
  Grant(s, 5, 60);
  s.Put("x", "1", 5);  // 2
  s.Put("y", "1", 5);  // 3
  s.Put("z", "1");     // 4
  LeaseRevokeRequest r;
  r.id = 5;
  ApplyResult res = s.MustApply(r);
  EXPECT_EQ(res.revision, 5);
  EXPECT_EQ(std::get<LeaseRevokeResult>(res.result).deleted, 2);
  ASSERT_EQ(res.events.size(), 2u);
  for (const Event& e : res.events) {
    EXPECT_EQ(e.type, EventType::kDelete);
    EXPECT_EQ(e.kv.mod_revision, 5);
    EXPECT_EQ(e.prev_kv->lease, 5);
  }
  EXPECT_EQ(KeysOf(s.All()), (std::vector<std::string>{"z"}));
  EXPECT_TRUE(s->Leases().value().empty());
  EXPECT_EQ(s.Apply(r).error().code(), Errc::kLeaseNotFound);
  EXPECT_EQ(s.Apply(PutOf("w", "1", 5)).error().code(), Errc::kLeaseNotFound);
}

TEST(LeaseTest, RevokeWithoutKeysKeepsTheRevision) {
  TestStore s;
  Grant(s, 5, 60);
  s.Put("x", "1", 5);
  s.Delete("x");
  LeaseRevokeRequest r;
  r.id = 5;
  ApplyResult res = s.MustApply(r);
  EXPECT_EQ(res.revision, 3);
  EXPECT_TRUE(res.events.empty());
}

}  // namespace
}  // namespace synod::mvcc
