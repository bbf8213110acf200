// Strong integer types for ids and counters (Term, LogIndex, NodeId, ...), so that a term can
// never be passed where an index is expected. Arithmetic is limited to what the protocols need:
// adding or subtracting a plain count, and comparison.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace synod {

template <typename Tag, typename Rep = uint64_t>
struct StrongInt {
  Rep value{};

  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep v) : value(v) {}

  constexpr auto operator<=>(const StrongInt&) const = default;
  constexpr StrongInt operator+(Rep n) const { return StrongInt(value + n); }
  constexpr StrongInt operator-(Rep n) const { return StrongInt(value - n); }
  constexpr StrongInt& operator++() {
    ++value;
    return *this;
  }
  constexpr StrongInt& operator+=(Rep n) {
    value += n;
    return *this;
  }
  friend std::ostream& operator<<(std::ostream& os, StrongInt s) { return os << s.value; }
};

}  // namespace synod

template <typename Tag, typename Rep>
struct std::hash<synod::StrongInt<Tag, Rep>> {
  size_t operator()(synod::StrongInt<Tag, Rep> s) const noexcept { return std::hash<Rep>{}(s.value); }
};
