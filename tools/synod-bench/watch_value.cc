#include "watch_value.h"

#include <cstdio>

namespace synod::bench {
namespace {

bool ParseHex16(std::string_view text, uint64_t* out) {
  uint64_t v = 0;
  for (char c : text.substr(0, 16)) {
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = v << 4 | digit;
  }
  *out = v;
  return true;
}

}  // namespace

std::string WatchValue(uint64_t seq, uint64_t send_ns, uint32_t val_size) {
  char stamp[kWatchStampBytes + 1];
  std::snprintf(stamp, sizeof stamp, "%016llx%016llx", static_cast<unsigned long long>(seq),
                static_cast<unsigned long long>(send_ns));
  std::string value(stamp, kWatchStampBytes);
  if (val_size > kWatchStampBytes) value.append(val_size - kWatchStampBytes, 'x');
  return value;
}

bool ParseWatchValue(std::string_view value, uint64_t* seq, uint64_t* send_ns) {
  if (value.size() < kWatchStampBytes) return false;
  return ParseHex16(value.substr(0, 16), seq) && ParseHex16(value.substr(16, 16), send_ns);
}

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace synod::bench
