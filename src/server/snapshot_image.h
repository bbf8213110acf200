// A directory of files (a store checkpoint) as one byte string, the form a Raft snapshot
// carries, and back:
//   "SYNODSNAP1" | count | (name, contents)... | crc32c of everything before it (fixed32)
// with count and lengths as varints. Only plain files directly in the directory; names
// must not contain '/'. The checksum catches an image damaged in the WAL or on the wire
// before it replaces a member's whole state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace synod::server {

// kLimitExceeded when the image would be larger than `bytes_max`.
Result<std::string> PackDirectory(const std::string& dir, size_t bytes_max);
// Creates `dir` (which must not exist) with the image's files, each fsynced, and the
// directory itself fsynced. kCorruption on a damaged image.
Status UnpackDirectory(std::string_view image, const std::string& dir);

// The same image, streamed: written to the new file `path` (fsynced) a buffer at a time, so
// memory does not grow with the store; returns its size. kLimitExceeded (before anything is
// written) when it would be larger than `bytes_max`.
Result<uint64_t> PackDirectoryToFile(const std::string& dir, const std::string& path,
                                     uint64_t bytes_max);
// UnpackDirectory of the image in the file `path`, read a buffer at a time. The checksum at
// the end is checked once every file is written: on kCorruption `dir` holds what was
// unpacked and the caller removes it.
Status UnpackFile(const std::string& path, const std::string& dir);

}  // namespace synod::server
