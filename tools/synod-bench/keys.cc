#include "keys.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace synod::bench {

uint32_t DigitsFor(uint64_t key_space) {
  uint64_t largest = key_space == 0 ? 0 : key_space - 1;
  uint32_t digits = 1;
  while (largest >= 10) {
    largest /= 10;
    ++digits;
  }
  return digits;
}

std::string FormatKey(uint64_t index, uint32_t key_size) {
  std::string digits = std::to_string(index);
  SYNOD_ASSERT(digits.size() <= key_size, "key index does not fit the key size");
  return std::string(key_size - digits.size(), '0') + digits;
}

Zipfian::Zipfian(uint64_t n, double exponent) : n_(n), theta_(exponent) {
  SYNOD_ASSERT(n >= 1, "zipfian over no keys");
  SYNOD_ASSERT(exponent > 0 && exponent < 1, "zipfian exponent outside (0, 1)");
  zeta_n_ = 0;
  for (uint64_t i = 1; i <= n; ++i) zeta_n_ += 1.0 / std::pow(static_cast<double>(i), theta_);
  const double zeta_2 = 1.0 + std::pow(0.5, theta_);
  alpha_ = 1.0 / (1.0 - theta_);
  // With one or two keys eta's denominator vanishes; Next() never reaches it then.
  const double denominator = 1.0 - zeta_2 / zeta_n_;
  eta_ = denominator == 0
             ? 0
             : (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta_)) / denominator;
  half_pow_theta_ = std::pow(0.5, theta_);
}

uint64_t Zipfian::Next(Random& random) const {
  const double u = random.NextDouble();
  const double uz = u * zeta_n_;
  if (uz < 1.0 || n_ == 1) return 0;
  if (uz < 1.0 + half_pow_theta_ || n_ == 2) return 1;
  const double x = static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_);
  return std::min<uint64_t>(static_cast<uint64_t>(x), n_ - 1);
}

uint64_t KeyChooser::NextIndex() {
  switch (shared_->dist) {
    case KeyDist::kSequential:
      return shared_->next_sequential.fetch_add(1, std::memory_order_relaxed) % shared_->key_space;
    case KeyDist::kUniform:
      return random_.Uniform(shared_->key_space);
    case KeyDist::kZipfian:
      return shared_->zipfian->Next(random_);
  }
  SYNOD_UNREACHABLE("unknown key distribution");
}

}  // namespace synod::bench
