#include "storage/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace synod::storage {
namespace {

Status ErrnoStatus(const char* op, const std::string& path, int err) {
  return Status(ErrorCode::kIoError,
                std::string(op) + " " + path + ": " + std::strerror(err));
}

// pwritev accepts at most IOV_MAX parts; the WAL never passes more than a few.
constexpr size_t kWritePartsMax = 16;

}  // namespace

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File::File(File&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

Status File::Error(const char* op) const { return ErrnoStatus(op, path_, errno); }

Result<File> File::OpenReadWrite(const std::string& path, bool create) {
  int flags = O_RDWR | O_CLOEXEC;
  if (create) flags |= O_CREAT | O_EXCL;
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return File(fd, path);
}

Result<File> File::OpenDirectory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory", path, errno);
  return File(fd, path);
}

Result<uint64_t> File::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Error("fstat");
  return static_cast<uint64_t>(st.st_size);
}

Status File::ReadAt(uint64_t offset, std::span<char> out) const {
  SYNOD_ASSERT(fd_ >= 0, "read from a closed file");
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error("pread");
    }
    if (n == 0) {
      return Status(ErrorCode::kIoError, "pread " + path_ + ": unexpected end of file at " +
                                             std::to_string(offset + done));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status File::WriteAt(uint64_t offset, std::span<const std::string_view> parts) {
  SYNOD_ASSERT(fd_ >= 0, "write to a closed file");
  SYNOD_ASSERT(parts.size() <= kWritePartsMax, "too many parts for one write");
  iovec iov[kWritePartsMax];
  size_t count = 0;
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    iov[count++] = iovec{const_cast<char*>(p.data()), p.size()};
  }
  size_t first = 0;
  while (first < count) {
    const ssize_t n = ::pwritev(fd_, iov + first, static_cast<int>(count - first),
                                static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error("pwritev");
    }
    // A short write: skip the parts written in full and advance into the partial one.
    size_t left = static_cast<size_t>(n);
    offset += left;
    while (first < count && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (first < count) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return Status::Ok();
}

Status File::DataSync() {
  SYNOD_ASSERT(fd_ >= 0, "fdatasync on a closed file");
  if (::fdatasync(fd_) != 0) return Error("fdatasync");
  return Status::Ok();
}

Status File::Sync() {
  SYNOD_ASSERT(fd_ >= 0, "fsync on a closed file");
  if (::fsync(fd_) != 0) return Error("fsync");
  return Status::Ok();
}

Status File::Preallocate(uint64_t bytes) {
  // posix_fallocate reports the error as its return value, not through errno; glibc falls
  // back to writing zeros on file systems without fallocate support.
  const int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(bytes));
  if (err != 0) return ErrnoStatus("posix_fallocate", path_, err);
  return Status::Ok();
}

Status File::Truncate(uint64_t bytes) {
  if (::ftruncate(fd_, static_cast<off_t>(bytes)) != 0) return Error("ftruncate");
  return Status::Ok();
}

Status File::LockExclusive() {
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status(ErrorCode::kUnavailable, path_ + " is locked by another process or handle");
    }
    return Error("flock");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("opendir", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus("readdir", dir, err);
  std::sort(names.begin(), names.end());
  return names;
}

Status CreateDirectories(const std::string& dir) {
  // Walk the path so that parents are created first, as `mkdir -p` does.
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("mkdir", prefix, errno);
    }
  }
  return Status::Ok();
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename", from, errno);
  return Status::Ok();
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
  return Status::Ok();
}

Status SyncDirectory(const std::string& dir) {
  Result<File> d = File::OpenDirectory(dir);
  if (!d.ok()) return d.status();
  return d.value().Sync();
}

}  // namespace synod::storage
