// src/base: CRC32C, the deterministic PRNG, strong integer ids and errors as values.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "base/crc32c.h"
#include "base/random.h"
#include "base/status.h"
#include "base/strong_int.h"

namespace synod {
namespace {

// Bit-at-a-time CRC32C, the definition the table-driven version must agree with.
uint32_t SlowCrc32c(std::string_view s) {
  uint32_t crc = 0xffffffff;
  for (unsigned char c : s) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
  }
  return ~crc;
}

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);  // the CRC-32C check value
  // iSCSI test patterns (RFC 3720, appendix B.4).
  EXPECT_EQ(Crc32c(std::string(32, '\x00')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string up, down;
  for (int i = 0; i < 32; ++i) {
    up.push_back(static_cast<char>(i));
    down.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Crc32c(up), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(down), 0x113FDB5Cu);
}

TEST(Crc32c, MatchesTheBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::string data;
  Random rng(7);
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(rng.Uniform(256)));
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; offset + len <= data.size(); len += 13) {
      const std::string_view s(data.data() + offset, len);
      ASSERT_EQ(Crc32c(s), SlowCrc32c(s)) << "offset " << offset << " length " << len;
    }
  }
}

TEST(Crc32c, ExtendsAcrossPieces) {
  const std::string s = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    const uint32_t first = Crc32c(0, s.data(), cut);
    EXPECT_EQ(Crc32c(first, s.data() + cut, s.size() - cut), Crc32c(s)) << "cut at " << cut;
  }
}

TEST(Random, SameSeedSameSequence) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs = differs || x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(Random, SeedZeroIsUsable) {
  Random r(0);
  std::set<uint64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(r.Next());
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Random, UniformStaysInRangeAndCoversIt) {
  Random r(1);
  std::vector<int> counts(10);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t x = r.Uniform(10);
    ASSERT_LT(x, 10u);
    ++counts[x];
  }
  // Each bucket expects 10000; a deviation of 5% is about 16 standard deviations.
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  EXPECT_EQ(r.Uniform(1), 0u);
  EXPECT_LT(r.Uniform(UINT64_MAX), UINT64_MAX);
}

TEST(Random, BetweenIsInclusive) {
  Random r(3);
  bool lo = false, hi = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = r.Between(10, 13);
    ASSERT_GE(x, 10u);
    ASSERT_LE(x, 13u);
    lo = lo || x == 10;
    hi = hi || x == 13;
  }
  EXPECT_TRUE(lo && hi);
  EXPECT_EQ(r.Between(5, 5), 5u);
}

TEST(Random, DoublesAndChances) {
  Random r(9);
  int heads = 0;
  for (int i = 0; i < 10000; ++i) {
    const double d = r.NextDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    EXPECT_FALSE(r.Chance(0.0));
    EXPECT_TRUE(r.Chance(1.0));
    heads += r.Chance(0.5) ? 1 : 0;
  }
  EXPECT_NEAR(heads, 5000, 300);
}

TEST(RandomDeathTest, EmptyRangesAreBugs) {
  Random r(1);
  EXPECT_DEATH((void)r.Uniform(0), "Uniform");
  EXPECT_DEATH((void)r.Between(3, 2), "lo > hi");
}

using Apples = StrongInt<struct ApplesTag>;
using Pears = StrongInt<struct PearsTag>;

TEST(StrongInt, ArithmeticAndComparison) {
  constexpr Apples zero;
  static_assert(zero.value == 0);
  constexpr Apples five(5);
  static_assert(five + 2 == Apples(7) && five - 5 == zero);
  Apples a(1);
  ++a;
  a += 3;
  EXPECT_EQ(a, Apples(5));
  EXPECT_LT(Apples(2), Apples(3));
  EXPECT_GE(Apples(3), Apples(3));
  EXPECT_NE(Apples(2), Apples(3));
  std::ostringstream o;
  o << Apples(12);
  EXPECT_EQ(o.str(), "12");
}

TEST(StrongInt, DistinctTypesDoNotMix) {
  static_assert(!std::is_convertible_v<Apples, Pears>);
  static_assert(!std::is_convertible_v<uint64_t, Apples>);  // explicit construction only
  static_assert(!std::is_convertible_v<Apples, uint64_t>);
  static_assert(sizeof(Apples) == sizeof(uint64_t));
  std::unordered_set<Apples> set{Apples(1), Apples(2), Apples(1)};
  EXPECT_EQ(set.size(), 2u);
}

TEST(Status, OkAndErrors) {
  const Status ok = Status::Ok();
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.code(), ErrorCode::kOk);
  EXPECT_EQ(ok.ToString(), "ok");
  const Status err(ErrorCode::kNotLeader, "leader is 3");
  EXPECT_FALSE(err.ok());
  EXPECT_EQ(err.code(), ErrorCode::kNotLeader);
  EXPECT_EQ(err.message(), "leader is 3");
  EXPECT_EQ(err.ToString(), "not leader: leader is 3");
}

TEST(Status, EveryCodeHasAName) {
  std::set<std::string> names;
  for (int c = 0; c <= static_cast<int>(ErrorCode::kLimitExceeded); ++c) {
    const std::string name = ErrorCodeName(static_cast<ErrorCode>(c));
    EXPECT_NE(name, "unknown");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(ErrorCode::kLimitExceeded) + 1);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status(ErrorCode::kInvalidArgument, "odd");
  return x / 2;
}

TEST(Result, HoldsAValueOrAnError) {
  Result<int> r = Half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 4);
  r.value() = 5;
  EXPECT_EQ(r.value(), 5);
  const Result<int> e = Half(3);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.status().message(), "odd");
  const Result<std::string> s(std::string("moved"));
  EXPECT_EQ(s.value(), "moved");
}

TEST(ResultDeathTest, MisuseIsABug) {
  EXPECT_DEATH({ Result<int> r(Status::Ok()); }, "no value");
  EXPECT_DEATH((void)Half(3).value(), "holds an error");
  EXPECT_DEATH((void)Half(4).status(), "holds a value");
}

}  // namespace
}  // namespace synod
