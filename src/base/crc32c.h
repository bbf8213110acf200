// CRC32C (Castagnoli polynomial), the checksum on every record synod writes to disk.
// Software slice-by-8; the server's WAL may switch to ISA-L's hardware version with the same
// result, so the on-disk format does not change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synod {

uint32_t Crc32c(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(std::string_view s) { return Crc32c(0, s.data(), s.size()); }

}  // namespace synod
