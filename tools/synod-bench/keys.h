// Which key each request touches: keys are the decimal index 0 .. key_space-1, zero-padded to
// exactly key_size bytes ("00000042"), so they print readably and sort in index order.
//   sequential  0, 1, 2, ... shared by all clients (each index once until the space wraps)
//   uniform     every index equally likely
//   zipfian     index i (0-based) drawn with probability proportional to 1 / (i+1)^s, with the
//               exponent s in (0, 1) (default 0.99, as YCSB); index 0 is the hottest key.
//               Sampled in O(1) by Gray et al., "Quickly Generating Billion-Record Synthetic
//               Databases" (SIGMOD 1994), after an O(key_space) sum at start.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/random.h"

namespace synod::bench {

enum class KeyDist { kSequential, kUniform, kZipfian };

// Zero-padded decimal of `index`, exactly `key_size` bytes. REQUIRES: it fits.
std::string FormatKey(uint64_t index, uint32_t key_size);
// Decimal digits of n-1 (the largest index of a space of n keys); at least 1.
uint32_t DigitsFor(uint64_t key_space);

class Zipfian {
 public:
  Zipfian(uint64_t n, double exponent);
  uint64_t Next(Random& random) const;
  uint64_t n() const { return n_; }

 private:
  uint64_t n_;
  double theta_;
  double zeta_n_;
  double alpha_;
  double eta_;
  double half_pow_theta_;
};

// State shared by every client's KeyChooser.
struct KeyShared {
  KeyDist dist = KeyDist::kUniform;
  uint64_t key_space = 1;
  std::atomic<uint64_t> next_sequential{0};
  std::unique_ptr<Zipfian> zipfian;  // set for kZipfian
};

// One client's key source: its own Random (seeded per client), the shared sequence.
class KeyChooser {
 public:
  KeyChooser(KeyShared* shared, uint64_t seed) : shared_(shared), random_(seed) {}
  uint64_t NextIndex();

 private:
  KeyShared* shared_;
  Random random_;
};

}  // namespace synod::bench
