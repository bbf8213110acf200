// Byte encoding shared by the on-disk formats of src/storage: fixed-width little-endian
// integers (headers, where a field must sit at a known offset) and LEB128 varints (record
// payloads, where most numbers are small). Decoding never trusts its input: a Reader reports
// running out of bytes instead of reading past them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace synod::storage {

inline void EncodeFixed32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t DecodeFixed32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return v;
}
inline uint64_t DecodeFixed64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return v;
}

inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
inline void PutBytes(std::string* out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out->append(bytes);
}

// Reads a payload front to back. Every getter returns false once the input is exhausted or
// malformed, and the Reader stays failed, so a decoder can check once at the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool GetVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && ok_; shift += 7) {
      if (in_.empty()) break;
      const auto byte = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    ok_ = false;
    return false;
  }
  bool GetByte(uint8_t* v) {
    if (!ok_ || in_.empty()) return ok_ = false;
    *v = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return true;
  }
  // The returned view points into the input.
  bool GetBytes(std::string_view* v) {
    uint64_t n = 0;
    if (!GetVarint(&n) || n > in_.size()) return ok_ = false;
    *v = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }

  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace synod::storage
