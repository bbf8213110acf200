// Thin POSIX file access for the write-ahead log. Every call returns a Status naming the path
// and the errno text, so a failure reaching the operator says which file and why. Nothing here
// retries: after a failed fdatasync the page cache may have dropped the dirty pages, so the
// only safe reaction is to stop writing (the WAL makes such errors sticky).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace synod::storage {

// An open file descriptor, closed on destruction.
class File {
 public:
  File() = default;
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~File();
  File(File&& o) noexcept;
  File& operator=(File&& o) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Opens read-write, creating the file when `create` (and failing if it already exists).
  static Result<File> OpenReadWrite(const std::string& path, bool create);
  static Result<File> OpenDirectory(const std::string& path);

  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  Result<uint64_t> Size() const;
  // Reads exactly out.size() bytes at `offset`; kIoError on a short read.
  Status ReadAt(uint64_t offset, std::span<char> out) const;
  // Writes all of `parts` back to back at `offset` (retrying short writes).
  Status WriteAt(uint64_t offset, std::span<const std::string_view> parts);
  Status WriteAt(uint64_t offset, std::string_view data) { return WriteAt(offset, {&data, 1}); }
  Status DataSync();  // fdatasync: data and the metadata needed to read it back
  Status Sync();      // fsync, used on directories
  // Reserves [0, bytes) so later writes need no block allocation; new space reads as zeros.
  Status Preallocate(uint64_t bytes);
  Status Truncate(uint64_t bytes);
  // Takes an exclusive advisory lock without waiting; kUnavailable if someone holds it.
  Status LockExclusive();

 private:
  Status Error(const char* op) const;

  int fd_ = -1;
  std::string path_;
};

// Names (not paths) of the entries of a directory, sorted.
Result<std::vector<std::string>> ListDirectory(const std::string& dir);
Status CreateDirectories(const std::string& dir);
Status RenameFile(const std::string& from, const std::string& to);
Status RemoveFile(const std::string& path);
// Makes a create, rename or unlink in `dir` durable.
Status SyncDirectory(const std::string& dir);

}  // namespace synod::storage
