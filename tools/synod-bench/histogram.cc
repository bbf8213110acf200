#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/assert.h"

namespace synod::bench {

size_t LatencyHistogram::BucketIndex(uint64_t value) {
  if (value < kExactMax) return static_cast<size_t>(value);
  const int exponent = 63 - std::countl_zero(value);  // >= kSubBucketBits + 1
  const int shift = exponent - kSubBucketBits;
  const uint64_t top = value >> shift;  // in [kSubBucketCount, 2 * kSubBucketCount)
  const size_t index = kExactMax +
                       static_cast<size_t>(exponent - kSubBucketBits - 1) * kSubBucketCount +
                       (top - kSubBucketCount);
  SYNOD_ASSERT(index < kBucketCount, "bucket index past the table");
  return index;
}

uint64_t LatencyHistogram::BucketLower(size_t index) {
  SYNOD_ASSERT(index < kBucketCount, "bucket index past the table");
  if (index < kExactMax) return index;
  const size_t above = index - kExactMax;
  const int shift = static_cast<int>(above / kSubBucketCount) + 1;
  const uint64_t top = kSubBucketCount + above % kSubBucketCount;
  return top << shift;
}

uint64_t LatencyHistogram::BucketUpper(size_t index) {
  if (index < kExactMax) return index;
  const int shift = static_cast<int>((index - kExactMax) / kSubBucketCount) + 1;
  return BucketLower(index) + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::Record(uint64_t value) {
  ++counts_[BucketIndex(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += value;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  SYNOD_ASSERT(other.counts_.size() == counts_.size(), "histograms of different layouts");
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double LatencyHistogram::Mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

uint64_t LatencyHistogram::Percentile(double p) const {
  SYNOD_ASSERT(p >= 0 && p <= 100, "percentile outside [0, 100]");
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketUpper(i), min_, max_);
  }
  SYNOD_UNREACHABLE("rank beyond the recorded count");
}

}  // namespace synod::bench
