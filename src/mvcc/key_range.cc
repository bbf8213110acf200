#include "mvcc/key_range.h"

#include "base/assert.h"
#include "mvcc/types.h"

namespace synod::mvcc {

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) < 0xff) {
      end.back() = static_cast<char>(end.back() + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

KeyRange KeyRange::FromRequest(std::string_view key, std::string_view range_end) {
  KeyRange r;
  r.start_.assign(key);
  if (range_end.empty()) {
    r.kind_ = Kind::kSingle;
  } else if (range_end == std::string_view("\0", 1)) {
    r.kind_ = Kind::kUnbounded;
  } else if (range_end <= key) {
    r.kind_ = Kind::kEmpty;
  } else {
    r.kind_ = Kind::kBounded;
    r.end_.assign(range_end);
  }
  return r;
}

bool KeyRange::BelowEnd(std::string_view key) const {
  switch (kind_) {
    case Kind::kEmpty: return false;
    case Kind::kSingle: return key <= start_;
    case Kind::kBounded: return key < end_;
    case Kind::kUnbounded: return true;
  }
  SYNOD_UNREACHABLE("bad KeyRange kind");
}

bool KeyRange::Contains(std::string_view key) const {
  return !empty() && key >= start_ && BelowEnd(key);
}

bool KeyRange::Intersects(const KeyRange& other) const {
  if (empty() || other.empty()) return false;
  // Two ranges meet when each one's start lies below the other's end.
  return BelowEnd(other.start_) && other.BelowEnd(start_);
}

}  // namespace synod::mvcc
