// The apply path's copy of recent values (src/mvcc/recent_values.h): it holds only the
// point-read spaces, follows every written batch, and stays within its byte budget. Whether
// applies read the right values through it is the model test's job (model_test.cc runs every
// seed with the copy off, tiny or at its default size).
#include "mvcc/recent_values.h"

#include <gtest/gtest.h>
#include <rocksdb/write_batch.h>

#include <string>

namespace synod::mvcc {
namespace {

std::string Get(RecentValues& r, std::string_view key) {
  std::string v;
  return r.Lookup(key, &v) ? v : "<absent>";
}

TEST(RecentValues, KeepsOnlyPointReadSpaces) {
  RecentValues r(1 << 20);
  r.Insert("x/a", "latest");
  r.Insert("r/1", "record");
  r.Insert("k/a", "index");
  r.Insert("m/apply_state", "meta");
  EXPECT_EQ(Get(r, "x/a"), "latest");
  EXPECT_EQ(Get(r, "r/1"), "record");
  EXPECT_EQ(Get(r, "k/a"), "<absent>");
  EXPECT_EQ(Get(r, "m/apply_state"), "<absent>");
  EXPECT_EQ(r.size(), 2u);
}

TEST(RecentValues, FollowsWrittenBatches) {
  RecentValues r(1 << 20);
  r.Insert("x/a", "old");
  r.Insert("x/b", "b");
  rocksdb::WriteBatch batch;
  ASSERT_TRUE(batch.Put("x/a", "new").ok());
  ASSERT_TRUE(batch.Put("r/7", "seven").ok());
  ASSERT_TRUE(batch.Delete("x/b").ok());
  ASSERT_TRUE(batch.Put("k/a", "not kept").ok());
  r.Written(batch);
  EXPECT_EQ(Get(r, "x/a"), "new");
  EXPECT_EQ(Get(r, "r/7"), "seven");
  EXPECT_EQ(Get(r, "x/b"), "<absent>");
  EXPECT_EQ(Get(r, "k/a"), "<absent>");

  rocksdb::WriteBatch ranged;
  ASSERT_TRUE(ranged.DeleteRange("r/0", "r/5").ok());
  r.Written(ranged);  // not followed key by key: everything goes
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.bytes(), 0u);
}

TEST(RecentValues, EvictsLeastRecentlyUsedWithinBudget) {
  RecentValues r(4096);
  const std::string value(100, 'v');
  for (int i = 0; i < 100; ++i) {
    r.Insert("x/" + std::to_string(i), value);
    EXPECT_LE(r.bytes(), 4096u);
    std::string v;
    ASSERT_TRUE(r.Lookup("x/0", &v)) << "the key used on every step stays, at step " << i;
  }
  EXPECT_EQ(Get(r, "x/1"), "<absent>");
  EXPECT_EQ(Get(r, "x/99"), value);
  EXPECT_GT(r.size(), 5u);
}

TEST(RecentValues, RefusesValuesAboveASixteenthAndDropsTheOldCopy) {
  RecentValues r(1600);
  r.Insert("x/a", "small");
  r.Insert("x/a", std::string(200, 'v'));
  EXPECT_EQ(Get(r, "x/a"), "<absent>");
  EXPECT_EQ(r.bytes(), 0u);
}

TEST(RecentValues, ZeroCapacityKeepsNothing) {
  RecentValues r(0);
  r.Insert("x/a", "");
  EXPECT_EQ(r.size(), 0u);
}

}  // namespace
}  // namespace synod::mvcc
