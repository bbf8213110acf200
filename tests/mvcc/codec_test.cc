// The on-disk encodings: round trips, and the ordering properties the reads rely on (index keys
// sort by user key, then newest revision first; revision keys sort by revision).
#include "mvcc/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/random.h"
#include "mvcc/key_range.h"
#include "mvcc/types.h"

namespace synod::mvcc {
namespace {

std::string RandomKey(Random& rng) {
  // Few distinct bytes, zero and 0xff among them, so prefixes and escapes are common.
  static constexpr char kBytes[] = {'\0', '\x01', 'a', 'b', '\xfe', '\xff'};
  std::string key(rng.Between(1, 4), 'a');
  for (char& c : key) c = kBytes[rng.Uniform(sizeof(kBytes))];
  return key;
}

TEST(CodecTest, IndexKeyRoundTrips) {
  Random rng(7);
  for (int i = 0; i < 2000; ++i) {
    const std::string key = RandomKey(rng);
    const auto rev = static_cast<int64_t>(rng.Uniform(1'000'000'000'000));
    const auto parsed = codec::ParseIndexKey(codec::IndexKey(key, rev));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->user_key, key);
    EXPECT_EQ(parsed->revision, rev);
    EXPECT_EQ(parsed->prefix_size, codec::IndexKeyPrefix(key).size());
  }
}

TEST(CodecTest, IndexKeysSortByUserKeyThenNewestFirst) {
  Random rng(11);
  for (int i = 0; i < 5000; ++i) {
    const std::string a = RandomKey(rng);
    const std::string b = RandomKey(rng);
    const auto ra = static_cast<int64_t>(rng.Uniform(100));
    const auto rb = static_cast<int64_t>(rng.Uniform(100));
    const std::string ka = codec::IndexKey(a, ra);
    const std::string kb = codec::IndexKey(b, rb);
    if (a != b) {
      EXPECT_EQ(a < b, ka < kb);
    } else {
      EXPECT_EQ(ra > rb, ka < kb);
    }
    // The bounds used by scans: every version of a key lies within [prefix, after), and
    // prefix(b) bounds the versions of every smaller key.
    EXPECT_LE(codec::IndexKeyPrefix(a), ka);
    EXPECT_LT(ka, codec::IndexKeyAfter(a));
    if (a < b) {
      EXPECT_LT(ka, codec::IndexKeyPrefix(b));
      EXPECT_LE(codec::IndexKeyAfter(a), kb);
    }
  }
}

TEST(CodecTest, RejectsMalformedIndexKeys) {
  EXPECT_FALSE(codec::ParseIndexKey("k/abc").has_value());
  EXPECT_FALSE(codec::ParseIndexKey("r/abc").has_value());
  std::string bad = codec::IndexKey("a", 3);
  bad.pop_back();
  EXPECT_FALSE(codec::ParseIndexKey(bad).has_value());
  std::string bad_escape = "k/a";
  bad_escape += std::string("\0\x05", 2);
  bad_escape += std::string(8, '\0');
  EXPECT_FALSE(codec::ParseIndexKey(bad_escape).has_value());
}

TEST(CodecTest, EntriesAndRecordsRoundTrip) {
  const codec::IndexEntry entry{false, 3, 17, 5, 1ll << 40};
  EXPECT_EQ(codec::DecodeIndexEntry(codec::EncodeIndexEntry(entry)), entry);
  const codec::IndexEntry tomb{true, 0, 0, 0, 0};
  EXPECT_EQ(codec::DecodeIndexEntry(codec::EncodeIndexEntry(tomb)), tomb);
  const codec::RevisionRecord rec{false, std::string("k\0y", 3), 2, 9, 4, std::string("v\0", 2)};
  EXPECT_EQ(codec::DecodeRevisionRecord(codec::EncodeRevisionRecord(rec)), rec);
  EXPECT_FALSE(codec::DecodeIndexEntry("").has_value());
  EXPECT_FALSE(codec::DecodeIndexEntry(std::string("\x04\x01\x01\x01\x01", 5)).has_value());
  EXPECT_FALSE(codec::DecodeRevisionRecord(std::string("\x00\x09" "ab", 4)).has_value());
}

TEST(CodecTest, RevisionKeysSortByRevision) {
  EXPECT_LT(codec::RevisionKey(1, 5), codec::RevisionKey(2, 0));
  EXPECT_LT(codec::RevisionKey(255, 0), codec::RevisionKey(256, 0));
  EXPECT_LT(codec::RevisionKey(7, 1), codec::RevisionKey(7, 2));
  const auto parsed = codec::ParseRevisionKey(codec::RevisionKey(1234567, 89));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->main, 1234567);
  EXPECT_EQ(parsed->sub, 89);
}

TEST(CodecTest, LeaseKeys) {
  EXPECT_EQ(codec::ParseLeaseKey(codec::LeaseKey(42)), 42);
  EXPECT_TRUE(codec::AttachKey(5, "x").starts_with(codec::AttachPrefix(5)));
  EXPECT_FALSE(codec::AttachKey(6, "x").starts_with(codec::AttachPrefix(5)));
}

TEST(KeyRangeTest, Shapes) {
  const std::string zero(1, '\0');
  EXPECT_TRUE(KeyRange::FromRequest("a", "").single());
  EXPECT_TRUE(KeyRange::FromRequest("a", zero).unbounded());
  EXPECT_TRUE(KeyRange::FromRequest("b", "a").empty());
  EXPECT_TRUE(KeyRange::FromRequest("a", "a").empty());
  const KeyRange r = KeyRange::FromRequest("b", "d");
  EXPECT_FALSE(r.Contains("a"));
  EXPECT_TRUE(r.Contains("b"));
  EXPECT_TRUE(r.Contains("c\xff"));
  EXPECT_FALSE(r.Contains("d"));
  EXPECT_TRUE(r.Intersects(KeyRange::FromRequest("c", "")));
  EXPECT_FALSE(r.Intersects(KeyRange::FromRequest("d", "e")));
  EXPECT_TRUE(r.Intersects(KeyRange::FromRequest("a", "b\x01")));
  EXPECT_TRUE(KeyRange::FromRequest("x", zero).Contains("\xff\xff"));
  EXPECT_FALSE(KeyRange::FromRequest("x", zero).Contains("w"));
}

TEST(KeyRangeTest, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

}  // namespace
}  // namespace synod::mvcc
