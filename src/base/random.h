// Deterministic pseudo-random numbers. Every random choice in synod's cores and in the simulator
// comes from an instance of this class seeded explicitly, never from a global source, so a run
// reproduces from its seed. Algorithm: xoshiro256** (Blackman and Vigna), seeded by splitmix64.
#pragma once

#include <cstdint>

#include "base/assert.h"

namespace synod {

class Random {
 public:
  explicit Random(uint64_t seed) {
    for (auto& word : s_) word = SplitMix(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n). Lemire's multiply-shift; the tiny bias is irrelevant for our uses.
  uint64_t Uniform(uint64_t n) {
    SYNOD_ASSERT(n > 0, "Uniform(0)");
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  uint64_t Between(uint64_t lo, uint64_t hi) {
    SYNOD_ASSERT(lo <= hi, "Between with lo > hi");
    return lo + Uniform(hi - lo + 1);
  }
  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return NextDouble() < p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

}  // namespace synod
