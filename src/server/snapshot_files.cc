#include "server/snapshot_files.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <filesystem>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "storage/file.h"

namespace synod::server {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kImageSuffix = ".img";
constexpr std::string_view kReceivedPrefix = "recv-";
constexpr std::string_view kTempMarker = ".tmp.";

// The index in an image file's name; nullopt for any other file.
std::optional<uint64_t> IndexOfName(std::string_view name) {
  if (!name.ends_with(kImageSuffix)) return std::nullopt;
  name.remove_suffix(kImageSuffix.size());
  if (name.starts_with(kReceivedPrefix)) name.remove_prefix(kReceivedPrefix.size());
  uint64_t index = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
  if (ec != std::errc() || end != name.data() + name.size() || name.empty()) return std::nullopt;
  return index;
}

bool ValidName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\n') == std::string::npos;
}

}  // namespace

bool IsSnapshotDescriptor(std::string_view data) {
  return data.starts_with(kSnapshotFileMagic);
}

std::string SnapshotFileName(uint64_t index, bool received) {
  return (received ? std::string(kReceivedPrefix) : std::string()) + std::to_string(index) +
         std::string(kImageSuffix);
}

namespace {

struct Described {
  std::string name;
  uint64_t size = 0;
};

Result<Described> ParseDescriptor(std::string_view descriptor) {
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kCorruption, "snapshot descriptor: " + why);
  };
  if (!IsSnapshotDescriptor(descriptor)) return bad("bad header");
  std::string_view rest = descriptor.substr(kSnapshotFileMagic.size());
  const size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) return bad("no file name");
  const std::string_view name = rest.substr(0, nl);
  if (!ValidName(name)) return bad("bad file name");
  rest.remove_prefix(nl + 1);
  uint64_t size = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), size);
  const std::string_view after(end, static_cast<size_t>(rest.data() + rest.size() - end));
  if (ec != std::errc() || end == rest.data() || after != "\n") return bad("bad size");
  return Described{std::string(name), size};
}

std::string Descriptor(const std::string& name, uint64_t size) {
  return std::string(kSnapshotFileMagic) + name + "\n" + std::to_string(size) + "\n";
}

// The described file, opened and checked to hold the size the descriptor says.
Result<storage::File> OpenDescribed(const std::string& dir, const Described& d) {
  const std::string path = dir + "/" + d.name;
  auto file = storage::File::OpenReadWrite(path, /*create=*/false);
  if (!file.ok()) {
    return Status(ErrorCode::kIoError, "snapshot image file " + path +
                                           " missing or unreadable: " + file.status().ToString());
  }
  auto actual = file.value().Size();
  if (!actual.ok()) return actual.status();
  if (actual.value() != d.size) {
    return Status(ErrorCode::kCorruption, "snapshot image file " + path + " holds " +
                                              std::to_string(actual.value()) + " bytes, expected " +
                                              std::to_string(d.size));
  }
  return std::move(file.value());
}

std::string TempName(const std::string& path) {
  // Unique: two peers' connections may write the same received index at once.
  static std::atomic<uint64_t> temp_counter{0};
  return path + std::string(kTempMarker) + std::to_string(++temp_counter);
}

// Makes a written temporary file the image file `path`: flushed, renamed, directory synced.
Status Publish(storage::File& file, const std::string& temp, const std::string& path,
               const std::string& dir) {
  Status s = file.DataSync();
  if (!s.ok()) return s;
  if (s = storage::RenameFile(temp, path); !s.ok()) return s;
  return storage::SyncDirectory(dir);
}

class FileSource final : public transport::SnapshotSource {
 public:
  FileSource(storage::File file, uint64_t size) : file_(std::move(file)), size_(size) {}
  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<char> out) override {
    return file_.ReadAt(offset, out);
  }

 private:
  storage::File file_;
  const uint64_t size_;
};

class FileSink final : public transport::SnapshotSink {
 public:
  FileSink(std::string dir, std::string name, std::string temp, storage::File file)
      : dir_(std::move(dir)), name_(std::move(name)), temp_(std::move(temp)), file_(std::move(file)) {}
  ~FileSink() override {
    if (!finished_) (void)storage::RemoveFile(temp_);
  }
  Status Append(std::string_view bytes) override {
    Status s = file_.WriteAt(written_, bytes);
    if (!s.ok()) return s;
    written_ += bytes.size();
    // This runs on the transport's thread: flushing as the image arrives keeps the final
    // fdatasync short, so heartbeats from the leader are not held behind it for seconds.
    if (written_ - synced_ >= kSyncEveryBytes) {
      if (s = file_.DataSync(); !s.ok()) return s;
      synced_ = written_;
    }
    return Status::Ok();
  }
  Result<std::string> Finish() override {
    Status s = Publish(file_, temp_, dir_ + "/" + name_, dir_);
    if (!s.ok()) return s;
    finished_ = true;
    return Descriptor(name_, written_);
  }

 private:
  const std::string dir_, name_, temp_;
  static constexpr uint64_t kSyncEveryBytes = 16u << 20;
  storage::File file_;
  uint64_t written_ = 0;
  uint64_t synced_ = 0;
  bool finished_ = false;
};

}  // namespace

Result<std::string> WriteSnapshotFile(const std::string& dir, const std::string& name,
                                      std::string_view image) {
  return CreateSnapshotFile(dir, name, [&](const std::string& temp) -> Result<uint64_t> {
    auto file = storage::File::OpenReadWrite(temp, /*create=*/true);
    if (!file.ok()) return file.status();
    Status s = file.value().WriteAt(0, image);
    if (s.ok()) s = file.value().DataSync();
    if (!s.ok()) return s;
    return image.size();
  });
}

Result<std::string> CreateSnapshotFile(
    const std::string& dir, const std::string& name,
    const std::function<Result<uint64_t>(const std::string& temp_path)>& write) {
  if (!ValidName(name)) return Status(ErrorCode::kInvalidArgument, "bad snapshot file name");
  Status s = storage::CreateDirectories(dir);
  if (!s.ok()) return s;
  const std::string path = dir + "/" + name;
  const std::string temp = TempName(path);
  auto size = write(temp);
  if (size.ok()) s = storage::RenameFile(temp, path);
  if (size.ok() && s.ok()) s = storage::SyncDirectory(dir);
  if (!size.ok() || !s.ok()) {
    (void)storage::RemoveFile(temp);
    return size.ok() ? s : size.status();
  }
  return Descriptor(name, size.value());
}

Result<std::string> SnapshotFilePath(const std::string& dir, std::string_view descriptor) {
  auto d = ParseDescriptor(descriptor);
  if (!d.ok()) return d.status();
  auto file = OpenDescribed(dir, d.value());
  if (!file.ok()) return file.status();
  return dir + "/" + d.value().name;
}

Result<std::string> ReadSnapshotFile(const std::string& dir, std::string_view descriptor) {
  auto d = ParseDescriptor(descriptor);
  if (!d.ok()) return d.status();
  auto file = OpenDescribed(dir, d.value());
  if (!file.ok()) return file.status();
  std::string image(d.value().size, '\0');
  Status s = file.value().ReadAt(0, std::span<char>(image.data(), image.size()));
  if (!s.ok()) return Status(ErrorCode::kIoError, "read " + dir + "/" + d.value().name + ": " + s.ToString());
  return image;
}

Result<std::unique_ptr<transport::SnapshotSource>> OpenSnapshotFileSource(const std::string& dir,
                                                                          std::string_view data) {
  if (!IsSnapshotDescriptor(data)) return std::unique_ptr<transport::SnapshotSource>();
  auto d = ParseDescriptor(data);
  if (!d.ok()) return d.status();
  auto file = OpenDescribed(dir, d.value());
  if (!file.ok()) return file.status();
  return std::unique_ptr<transport::SnapshotSource>(
      std::make_unique<FileSource>(std::move(file.value()), d.value().size));
}

Result<std::unique_ptr<transport::SnapshotSink>> CreateSnapshotFileSink(const std::string& dir,
                                                                        uint64_t index) {
  Status s = storage::CreateDirectories(dir);
  if (!s.ok()) return s;
  const std::string name = SnapshotFileName(index, /*received=*/true);
  const std::string temp = TempName(dir + "/" + name);
  auto file = storage::File::OpenReadWrite(temp, /*create=*/true);
  if (!file.ok()) return file.status();
  return std::unique_ptr<transport::SnapshotSink>(
      std::make_unique<FileSink>(dir, name, temp, std::move(file.value())));
}

Result<size_t> PruneSnapshotFiles(const std::string& dir, uint64_t applied) {
  auto names = storage::ListDirectory(dir);
  if (!names.ok()) return names.status();
  std::vector<std::pair<uint64_t, std::string>> held;  // at or below `applied`
  for (const std::string& name : names.value()) {
    const auto index = IndexOfName(name);
    if (index && *index <= applied) held.emplace_back(*index, name);
  }
  std::sort(held.begin(), held.end());
  // Keep the two newest indexes (a received and a taken file of one index count as one).
  std::vector<uint64_t> kept;
  for (auto it = held.rbegin(); it != held.rend() && kept.size() < 2; ++it) {
    if (kept.empty() || kept.back() != it->first) kept.push_back(it->first);
  }
  size_t removed = 0;
  for (const auto& [index, name] : held) {
    if (std::find(kept.begin(), kept.end(), index) != kept.end()) continue;
    // A snapshot job and an install may prune at once: a file already gone is no error.
    std::error_code ec;
    const bool gone = fs::remove(dir + "/" + name, ec);
    if (ec) return Status(ErrorCode::kIoError, "remove " + dir + "/" + name + ": " + ec.message());
    removed += gone ? 1 : 0;
  }
  return removed;
}

Status RemoveSnapshotTempFiles(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::Ok();
  auto names = storage::ListDirectory(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : names.value()) {
    if (name.find(kTempMarker) == std::string::npos) continue;
    Status s = storage::RemoveFile(dir + "/" + name);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void StoreSnapshotImages(const std::string& dir, std::vector<raft::Message>& messages,
                         const SnapshotDropped& dropped) {
  std::erase_if(messages, [&](raft::Message& m) {
    if (m.type != raft::MessageType::kSnapshot || !m.snapshot) return false;
    // Empty: the bootstrap snapshot; a descriptor would name a file of the sender's disk.
    const std::string_view data = m.snapshot->data.view();
    if (data.empty()) return false;
    if (IsSnapshotDescriptor(data)) {
      // Streamed: the transport's sink (CreateSnapshotFileSink) wrote the received file of
      // this index. A descriptor naming any other file did not come from it.
      auto d = ParseDescriptor(data);
      const std::string expected = SnapshotFileName(m.snapshot->metadata.index.value, true);
      if (d.ok() && d.value().name == expected) return false;
      dropped(m.from, Status(ErrorCode::kCorruption,
                             "a snapshot descriptor not naming " + expected + " came over the wire"));
      return true;
    }
    auto descriptor =
        WriteSnapshotFile(dir, SnapshotFileName(m.snapshot->metadata.index.value, true), data);
    if (!descriptor.ok()) {
      dropped(m.from, descriptor.status());
      return true;
    }
    m.snapshot->data = raft::Payload(std::move(descriptor.value()));
    return false;
  });
}

}  // namespace synod::server
