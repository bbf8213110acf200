// The set of user keys a request names (types.h, "Key ranges"), in one normalized shape.
#pragma once

#include <string>
#include <string_view>

namespace synod::mvcc {

class KeyRange {
 public:
  // From a request's (key, range_end) pair.
  static KeyRange FromRequest(std::string_view key, std::string_view range_end);

  // No key at all (range_end <= key).
  bool empty() const { return kind_ == Kind::kEmpty; }
  bool single() const { return kind_ == Kind::kSingle; }
  bool unbounded() const { return kind_ == Kind::kUnbounded; }
  // The smallest key of the range. REQUIRES: !empty().
  const std::string& start() const { return start_; }
  // The exclusive upper bound. REQUIRES: a bounded range (neither single nor unbounded).
  const std::string& end() const { return end_; }

  bool Contains(std::string_view key) const;
  bool Intersects(const KeyRange& other) const;

 private:
  enum class Kind : uint8_t { kEmpty, kSingle, kBounded, kUnbounded };
  // Whether `key` is below the range's upper bound.
  bool BelowEnd(std::string_view key) const;

  Kind kind_ = Kind::kEmpty;
  std::string start_;
  std::string end_;
};

}  // namespace synod::mvcc
