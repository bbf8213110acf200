// A latency histogram with log-linear buckets (the layout of HdrHistogram): values below 256
// are counted exactly; above, each power of two [2^e, 2^(e+1)) is split into 128 equal
// buckets. A bucket's width is then at most 1/128 of its lower bound, so any value read back
// (a bucket's highest value) is within 0.79% above the value recorded. The whole uint64 range
// fits in 7,424 counters, so nothing is clamped. Not thread-safe: one writer at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace synod::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 128 buckets per power of two
  static constexpr uint64_t kSubBucketCount = 1u << kSubBucketBits;
  static constexpr uint64_t kExactMax = 2 * kSubBucketCount;  // values below count exactly
  static constexpr size_t kBucketCount = kExactMax + (63 - kSubBucketBits) * kSubBucketCount;
  // The largest (upper - value) / value over all values: the bound on a reported value's error.
  static constexpr double kRelativeErrorMax = 1.0 / kSubBucketCount;

  LatencyHistogram() : counts_(kBucketCount, 0) {}

  void Record(uint64_t value);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double Mean() const;
  // The smallest value v (to the bucket's resolution) such that at least p percent of the
  // recorded values are <= v: the value of rank ceil(p/100 * count), read back as its bucket's
  // highest value, clamped to [min, max]. 0 when empty. p in [0, 100].
  uint64_t Percentile(double p) const;

  static size_t BucketIndex(uint64_t value);
  static uint64_t BucketLower(size_t index);
  static uint64_t BucketUpper(size_t index);  // inclusive
  uint64_t bucket_count(size_t index) const { return counts_[index]; }

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  unsigned __int128 sum_ = 0;
};

}  // namespace synod::bench
