#include "server/snapshot_image.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
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

Status WriteFile(const std::string& path, std::string_view contents) {
  auto file = storage::File::OpenReadWrite(path, /*create=*/true);
  if (!file.ok()) return file.status();
  Status s = file.value().WriteAt(0, contents);
  if (!s.ok()) return s;
  return file.value().DataSync();
}

}  // namespace

Result<std::string> PackDirectory(const std::string& dir, size_t bytes_max) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) {
      return Status(ErrorCode::kInvalidArgument, "not a plain file: " + entry.path().string());
    }
    files.push_back(entry.path());
  }
  if (ec) return IoError("list " + dir, ec);
  std::sort(files.begin(), files.end());  // the same directory packs to the same bytes

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

  std::error_code ec;
  if (!std::filesystem::create_directory(dir, ec) || ec) {
    return Status(ErrorCode::kIoError, "cannot create " + dir + ": " +
                                           (ec ? ec.message() : std::string("exists")));
  }
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view name, contents;
    if (!reader.GetBytes(&name) || !reader.GetBytes(&contents)) return corrupt("truncated");
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      return corrupt("bad file name");
    }
    Status s = WriteFile(dir + "/" + std::string(name), contents);
    if (!s.ok()) return s;
  }
  if (!reader.done()) return corrupt("trailing bytes");
  auto d = storage::File::OpenDirectory(dir);
  if (!d.ok()) return d.status();
  return d.value().Sync();
}

}  // namespace synod::server
