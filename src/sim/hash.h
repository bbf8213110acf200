// An order-dependent 64-bit hash for fingerprints: entry payloads in the checkers and the final
// state hash of a run. Determinism, not cryptographic strength, is the point: the same
// sequence of Add calls gives the same value on every machine and compiler.
#pragma once

#include <cstdint>
#include <string_view>

namespace synod::sim {

// FNV-1a over bytes; fast enough for the short payloads the simulator produces.
inline uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

class Hasher {
 public:
  void Add(uint64_t v) {
    // Mixing step of splitmix64 over the running state, so Add(a); Add(b) != Add(b); Add(a).
    uint64_t z = (h_ ^ v) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    h_ = z ^ (z >> 31);
  }
  void Add(std::string_view s) {
    Add(static_cast<uint64_t>(s.size()));
    Add(HashBytes(s));
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0x5ee6d0c0ffee1234ULL;
};

}  // namespace synod::sim
