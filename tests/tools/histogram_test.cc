// LatencyHistogram against the exact answer: percentiles of random data compared with a sorted
// copy, and the bucket layout's error bound checked over the whole uint64 range.
#include "histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/random.h"

namespace synod::bench {
namespace {

// The value of rank ceil(p/100 * n) in sorted order: the definition Percentile() promises.
uint64_t Reference(const std::vector<uint64_t>& sorted, double p) {
  uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<uint64_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void ExpectWithinBound(uint64_t reported, uint64_t exact) {
  EXPECT_GE(reported, exact);
  EXPECT_LE(static_cast<double>(reported),
            static_cast<double>(exact) * (1 + LatencyHistogram::kRelativeErrorMax))
      << "exact " << exact;
}

TEST(LatencyHistogram, EmptyReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 0; v < LatencyHistogram::kExactMax; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 127u);
  EXPECT_EQ(h.Percentile(100), 255u);
  EXPECT_EQ(h.Percentile(0), 0u);
  EXPECT_DOUBLE_EQ(h.Mean(), 127.5);
}

TEST(LatencyHistogram, BucketsTileTheRangeWithBoundedWidth) {
  uint64_t expected_lower = 0;
  for (size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    const uint64_t lower = LatencyHistogram::BucketLower(i);
    const uint64_t upper = LatencyHistogram::BucketUpper(i);
    ASSERT_EQ(lower, expected_lower) << "gap or overlap before bucket " << i;
    ASSERT_LE(lower, upper);
    ASSERT_EQ(LatencyHistogram::BucketIndex(lower), i);
    ASSERT_EQ(LatencyHistogram::BucketIndex(upper), i);
    if (lower > 0) {
      ASSERT_LE(static_cast<double>(upper - lower) / static_cast<double>(lower),
                LatencyHistogram::kRelativeErrorMax)
          << "bucket " << i;
    }
    expected_lower = upper + 1;  // wraps to 0 after the last bucket
  }
  EXPECT_EQ(expected_lower, 0u) << "the last bucket must end at UINT64_MAX";
  EXPECT_LT(LatencyHistogram::kRelativeErrorMax, 0.01);
}

TEST(LatencyHistogram, RandomValuesReadBackWithinTheBound) {
  Random random(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = random.Next() >> random.Uniform(64);
    const size_t b = LatencyHistogram::BucketIndex(v);
    ASSERT_LE(LatencyHistogram::BucketLower(b), v);
    ASSERT_GE(LatencyHistogram::BucketUpper(b), v);
    ExpectWithinBound(LatencyHistogram::BucketUpper(b), v);
  }
}

// Latency-like data: log-normal-ish nanoseconds from 10 us to a few seconds.
std::vector<uint64_t> LatencyLike(uint64_t seed, size_t n) {
  Random random(seed);
  std::vector<uint64_t> values;
  for (size_t i = 0; i < n; ++i) {
    const double exponent = 4 + 5.5 * random.NextDouble() * random.NextDouble();
    values.push_back(static_cast<uint64_t>(std::pow(10.0, exponent)));
  }
  return values;
}

TEST(LatencyHistogram, PercentilesMatchSortedReference) {
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    std::vector<uint64_t> values = LatencyLike(seed, 1000 + 20000 * seed);
    LatencyHistogram h;
    for (uint64_t v : values) h.Record(v);
    std::sort(values.begin(), values.end());
    ASSERT_EQ(h.count(), values.size());
    EXPECT_EQ(h.min(), values.front());
    EXPECT_EQ(h.max(), values.back());
    EXPECT_EQ(h.Percentile(100), values.back());
    for (double p : {0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " p" + std::to_string(p));
      ExpectWithinBound(h.Percentile(p), Reference(values, p));
    }
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  const std::vector<uint64_t> values = LatencyLike(9, 30000);
  LatencyHistogram all, parts[3];
  for (size_t i = 0; i < values.size(); ++i) {
    all.Record(values[i]);
    parts[i % 3].Record(values[i]);
  }
  LatencyHistogram merged;
  for (const auto& p : parts) merged.Merge(p);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.Mean(), all.Mean());
  for (double p : {50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(merged.Percentile(p), all.Percentile(p));
}

}  // namespace
}  // namespace synod::bench
