#include "server/snapshot_image.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <span>
#include <vector>

#include "base/crc32c.h"
#include "storage/coding.h"
#include "storage/file.h"

namespace synod::server {
namespace {

constexpr std::string_view kMagic = "SYNODSNAP1";

Status IoError(const std::string& what, const std::error_code& ec) {
  return Status(ErrorCode::kIoError, what + ": " + ec.message());
}

// A name an image may hold: one plain file directly in the directory.
bool ValidFileName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// Unpacking starts from a directory of its own: one that exists is an error.
Status CreateFreshDirectory(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::create_directory(dir, ec) || ec) {
    return Status(ErrorCode::kIoError, "cannot create " + dir + ": " +
                                           (ec ? ec.message() : std::string("exists")));
  }
  return Status::Ok();
}

Status WriteFile(const std::string& path, std::string_view contents) {
  auto file = storage::File::OpenReadWrite(path, /*create=*/true);
  if (!file.ok()) return file.status();
  Status s = file.value().WriteAt(0, contents);
  if (!s.ok()) return s;
  return file.value().DataSync();
}

// The plain files of `dir`, sorted: the same directory packs to the same bytes, in memory or
// streamed. Anything else in it is an error.
Result<std::vector<std::filesystem::path>> SortedFiles(const std::string& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) {
      return Status(ErrorCode::kInvalidArgument, "not a plain file: " + entry.path().string());
    }
    files.push_back(entry.path());
  }
  if (ec) return IoError("list " + dir, ec);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Result<std::string> PackDirectory(const std::string& dir, size_t bytes_max) {
  auto listed = SortedFiles(dir);
  if (!listed.ok()) return listed.status();
  const std::vector<std::filesystem::path>& files = listed.value();
  std::error_code ec;
  std::string image(kMagic);
  storage::PutVarint(&image, files.size());
  for (const auto& path : files) {
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return IoError("size of " + path.string(), ec);
    if (image.size() + size + 64 > bytes_max) {
      return Status(ErrorCode::kLimitExceeded, "snapshot image of " + dir + " exceeds " +
                                                   std::to_string(bytes_max) + " bytes");
    }
    std::ifstream in(path, std::ios::binary);
    std::string contents(size, '\0');
    if (!in.read(contents.data(), static_cast<std::streamsize>(size))) {
      return Status(ErrorCode::kIoError, "cannot read " + path.string());
    }
    storage::PutBytes(&image, path.filename().string());
    storage::PutBytes(&image, contents);
  }
  char crc[4];
  storage::EncodeFixed32(crc, Crc32c(image));
  image.append(crc, sizeof(crc));
  return image;
}

Status UnpackDirectory(std::string_view image, const std::string& dir) {
  auto corrupt = [](std::string why) {
    return Status(ErrorCode::kCorruption, "snapshot image: " + why);
  };
  if (image.size() < kMagic.size() + 4 || !image.starts_with(kMagic)) {
    return corrupt("bad header");
  }
  const std::string_view body = image.substr(0, image.size() - 4);
  if (Crc32c(body) != storage::DecodeFixed32(image.data() + body.size())) {
    return corrupt("checksum mismatch");
  }
  storage::Reader reader(body.substr(kMagic.size()));
  uint64_t count = 0;
  if (!reader.GetVarint(&count)) return corrupt("no file count");

  if (Status s = CreateFreshDirectory(dir); !s.ok()) return s;
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view name, contents;
    if (!reader.GetBytes(&name) || !reader.GetBytes(&contents)) return corrupt("truncated");
    if (!ValidFileName(name)) return corrupt("bad file name");
    Status s = WriteFile(dir + "/" + std::string(name), contents);
    if (!s.ok()) return s;
  }
  if (!reader.done()) return corrupt("trailing bytes");
  return storage::SyncDirectory(dir);
}

namespace {

constexpr size_t kStreamBufferBytes = size_t{1} << 20;

// Appends to a file front to back through one buffer, keeping the CRC32C of what it wrote.
class ImageWriter {
 public:
  explicit ImageWriter(storage::File* file) : file_(file) {}
  Status Append(std::string_view bytes) {
    crc_ = Crc32c(crc_, bytes.data(), bytes.size());
    buffer_.append(bytes);
    return buffer_.size() >= kStreamBufferBytes ? Flush() : Status::Ok();
  }
  Status Flush() {
    Status s = file_->WriteAt(offset_, buffer_);
    offset_ += buffer_.size();
    buffer_.clear();
    return s;
  }
  uint32_t crc() const { return crc_; }

 private:
  storage::File* file_;
  std::string buffer_;
  uint64_t offset_ = 0;
  uint32_t crc_ = 0;
};

// Reads an image file's body (everything before the checksum) front to back through one
// buffer, keeping the CRC32C of what it read.
class ImageReader {
 public:
  ImageReader(const storage::File* file, uint64_t body_bytes)
      : file_(file), body_bytes_(body_bytes) {}
  // False at the end of the body or on a read error (io_error() tells which).
  bool Read(char* out, size_t n) {
    while (n > 0) {
      if (start_ == buffer_.size() && !Fill()) return false;
      const size_t take = std::min(n, buffer_.size() - start_);
      std::copy_n(buffer_.data() + start_, take, out);
      crc_ = Crc32c(crc_, out, take);
      start_ += take;
      out += take;
      n -= take;
    }
    return true;
  }
  bool ReadVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      char c;
      if (!Read(&c, 1)) return false;
      const auto byte = static_cast<uint8_t>(c);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  uint64_t remaining() const { return body_bytes_ - offset_ + (buffer_.size() - start_); }
  uint32_t crc() const { return crc_; }
  const Status& io_error() const { return io_error_; }

 private:
  bool Fill() {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kStreamBufferBytes, body_bytes_ - offset_));
    if (n == 0) return false;
    buffer_.resize(n);
    io_error_ = file_->ReadAt(offset_, std::span<char>(buffer_.data(), n));
    if (!io_error_.ok()) return false;
    offset_ += n;
    start_ = 0;
    return true;
  }

  const storage::File* file_;
  const uint64_t body_bytes_;
  uint64_t offset_ = 0;  // of the file, read into the buffer so far
  std::string buffer_;
  size_t start_ = 0;
  uint32_t crc_ = 0;
  Status io_error_;
};

}  // namespace

Result<uint64_t> PackDirectoryToFile(const std::string& dir, const std::string& path,
                                     uint64_t bytes_max) {
  auto listed = SortedFiles(dir);
  if (!listed.ok()) return listed.status();
  const std::vector<std::filesystem::path>& files = listed.value();
  std::error_code ec;

  std::vector<uint64_t> sizes;
  std::string count;
  storage::PutVarint(&count, files.size());
  uint64_t total = kMagic.size() + count.size() + 4;
  for (const auto& file : files) {
    sizes.push_back(std::filesystem::file_size(file, ec));
    if (ec) return IoError("size of " + file.string(), ec);
    std::string head;
    storage::PutBytes(&head, file.filename().string());
    storage::PutVarint(&head, sizes.back());
    total += head.size() + sizes.back();
  }
  if (total > bytes_max) {
    return Status(ErrorCode::kLimitExceeded, "snapshot image of " + dir + " exceeds " +
                                                 std::to_string(bytes_max) + " bytes");
  }
  auto out = storage::File::OpenReadWrite(path, /*create=*/true);
  if (!out.ok()) return out.status();
  ImageWriter writer(&out.value());
  Status s = writer.Append(kMagic);
  if (s.ok()) s = writer.Append(count);
  std::string chunk;
  for (size_t i = 0; i < files.size() && s.ok(); ++i) {
    std::string head;
    storage::PutBytes(&head, files[i].filename().string());
    storage::PutVarint(&head, sizes[i]);
    s = writer.Append(head);
    auto in = storage::File::OpenReadWrite(files[i].string(), /*create=*/false);
    if (!in.ok()) s = in.status();
    for (uint64_t at = 0; s.ok() && at < sizes[i]; at += chunk.size()) {
      chunk.resize(static_cast<size_t>(std::min<uint64_t>(kStreamBufferBytes, sizes[i] - at)));
      s = in.value().ReadAt(at, std::span<char>(chunk.data(), chunk.size()));
      if (s.ok()) s = writer.Append(chunk);
    }
  }
  if (s.ok()) {
    char crc[4];
    storage::EncodeFixed32(crc, writer.crc());
    s = writer.Append(std::string_view(crc, sizeof(crc)));
  }
  if (s.ok()) s = writer.Flush();
  if (s.ok()) s = out.value().DataSync();
  if (!s.ok()) return s;
  return total;
}

Status UnpackFile(const std::string& path, const std::string& dir) {
  auto corrupt = [&](const std::string& why) {
    return Status(ErrorCode::kCorruption, "snapshot image " + path + ": " + why);
  };
  auto in = storage::File::OpenReadWrite(path, /*create=*/false);
  if (!in.ok()) return in.status();
  auto size = in.value().Size();
  if (!size.ok()) return size.status();
  if (size.value() < kMagic.size() + 4) return corrupt("too short");
  ImageReader reader(&in.value(), size.value() - 4);
  // A read that ran out is corruption unless the disk failed.
  auto short_read = [&](const std::string& what) {
    return reader.io_error().ok() ? corrupt("truncated in " + what) : reader.io_error();
  };
  std::string magic(kMagic.size(), '\0');
  if (!reader.Read(magic.data(), magic.size())) return short_read("the header");
  if (magic != kMagic) return corrupt("bad header");
  uint64_t count = 0;
  if (!reader.ReadVarint(&count)) return short_read("the file count");

  if (Status s = CreateFreshDirectory(dir); !s.ok()) return s;
  std::string chunk;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t name_bytes = 0, bytes = 0;
    if (!reader.ReadVarint(&name_bytes)) return short_read("a file name");
    if (name_bytes > 4096 || name_bytes > reader.remaining()) return corrupt("bad file name");
    std::string name(name_bytes, '\0');
    if (!reader.Read(name.data(), name.size())) return short_read("a file name");
    if (!ValidFileName(name)) return corrupt("bad file name");
    if (!reader.ReadVarint(&bytes)) return short_read(name);
    if (bytes > reader.remaining()) return corrupt(name + " runs past the end");
    auto out = storage::File::OpenReadWrite(dir + "/" + name, /*create=*/true);
    if (!out.ok()) return out.status();
    for (uint64_t at = 0; at < bytes; at += chunk.size()) {
      chunk.resize(static_cast<size_t>(std::min<uint64_t>(kStreamBufferBytes, bytes - at)));
      if (!reader.Read(chunk.data(), chunk.size())) return short_read(name);
      Status s = out.value().WriteAt(at, chunk);
      if (!s.ok()) return s;
    }
    Status s = out.value().DataSync();
    if (!s.ok()) return s;
  }
  if (reader.remaining() != 0) return corrupt("trailing bytes");
  char crc[4];
  Status s = in.value().ReadAt(size.value() - 4, std::span<char>(crc, sizeof(crc)));
  if (!s.ok()) return s;
  if (reader.crc() != storage::DecodeFixed32(crc)) return corrupt("checksum mismatch");
  return storage::SyncDirectory(dir);
}

}  // namespace synod::server
