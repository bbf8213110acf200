#include "server/backup.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/assert.h"
#include "base/crc32c.h"
#include "mvcc/store.h"
#include "server/snapshot_image.h"
#include "storage/coding.h"

namespace synod::server {
namespace {

namespace fs = std::filesystem;

// Must match PackDirectory's header (snapshot_image.cc): the image is read back by
// UnpackDirectory.
constexpr std::string_view kImageMagic = "SYNODSNAP1";
constexpr uint64_t kImageCrcBytes = 4;

Status IoError(const std::string& what, const std::error_code& ec) {
  return Status(ErrorCode::kIoError, what + ": " + ec.message());
}

std::string Sha256Of(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  const int ok = EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr);
  SYNOD_ASSERT(ok == 1 && n == kBackupShaBytes, "SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(digest), n);
}

// A read-only mapping of a whole file.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status(ErrorCode::kIoError, "cannot open " + path);
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) {
      ::close(fd);
      return IoError("size of " + path, ec);
    }
    void* at = size == 0 ? nullptr : ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (at == MAP_FAILED) return Status(ErrorCode::kIoError, "cannot map " + path);
    return std::unique_ptr<MappedFile>(new MappedFile(static_cast<const char*>(at), size));
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  std::string_view view() const { return std::string_view(data_, size_); }

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}
  const char* data_;
  size_t size_;
};

}  // namespace

struct BackupReader::Sums {
  uint32_t crc = 0;
  EVP_MD_CTX* sha = nullptr;
  ~Sums() { EVP_MD_CTX_free(sha); }
};

BackupReader::BackupReader() : sums_(std::make_unique<Sums>()) {}
BackupReader::~BackupReader() = default;

Result<std::unique_ptr<BackupReader>> BackupReader::Open(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) {
      return Status(ErrorCode::kInvalidArgument, "not a plain file: " + entry.path().string());
    }
    files.push_back(entry.path());
  }
  if (ec) return IoError("list " + dir, ec);
  std::sort(files.begin(), files.end());  // PackDirectory's order

  std::unique_ptr<BackupReader> r(new BackupReader());
  std::string header(kImageMagic);
  storage::PutVarint(&header, files.size() + 1);  // and the padding file
  for (const fs::path& path : files) {
    const auto size = fs::file_size(path, ec);
    if (ec) return IoError("size of " + path.string(), ec);
    storage::PutBytes(&header, path.filename().string());
    storage::PutVarint(&header, size);
    r->pieces_.push_back(Piece{std::move(header), {}, false, 0});
    r->pieces_.push_back(Piece{{}, path.string(), false, size});
    header.clear();
  }
  uint64_t unpadded = kImageCrcBytes + header.size();
  for (const Piece& p : r->pieces_) unpadded += p.path.empty() ? p.literal.size() : p.bytes;
  // The padding file: its name, its length and its zero bytes end the image on a multiple of
  // kBackupAlignBytes.
  storage::PutBytes(&header, kBackupPaddingFile);
  for (uint64_t pad = 0;; ++pad) {
    std::string length;
    storage::PutVarint(&length, pad);
    if ((unpadded + header.size() + length.size() + pad) % kBackupAlignBytes == 0) {
      header += length;
      header.append(pad, '\0');
      break;
    }
  }
  r->pieces_.push_back(Piece{std::move(header), {}, false, 0});
  r->pieces_.push_back(Piece{{}, {}, true, kImageCrcBytes});
  for (Piece& p : r->pieces_) {
    if (!p.literal.empty()) p.bytes = p.literal.size();
    r->image_bytes_ += p.bytes;
  }
  SYNOD_ASSERT(r->image_bytes_ % kBackupAlignBytes == 0, "backup image not aligned");
  r->sums_->sha = EVP_MD_CTX_new();
  SYNOD_ASSERT(r->sums_->sha != nullptr, "out of memory");
  SYNOD_ASSERT(EVP_DigestInit_ex(r->sums_->sha, EVP_sha256(), nullptr) == 1, "SHA-256 init");
  return r;
}

Result<std::string> BackupReader::Next(size_t bytes_max) {
  SYNOD_ASSERT(bytes_max > 0, "an empty chunk would never end the stream");
  std::string out;
  while (out.size() < bytes_max && piece_ < pieces_.size()) {
    Piece& p = pieces_[piece_];
    if (p.checksum && p.literal.empty()) {  // everything before it is summed by now
      char crc[kImageCrcBytes];
      storage::EncodeFixed32(crc, sums_->crc);
      p.literal.assign(crc, sizeof(crc));
    }
    const uint64_t take = std::min<uint64_t>(p.bytes - piece_offset_, bytes_max - out.size());
    const size_t at = out.size();
    out.resize(at + take);
    if (p.path.empty()) {
      std::copy_n(p.literal.data() + piece_offset_, take, out.data() + at);
    } else {
      std::ifstream in(p.path, std::ios::binary);
      in.seekg(static_cast<std::streamoff>(piece_offset_));
      if (!in.read(out.data() + at, static_cast<std::streamsize>(take))) {
        return Status(ErrorCode::kIoError, "cannot read " + p.path);
      }
    }
    if (!p.checksum) sums_->crc = Crc32c(sums_->crc, out.data() + at, take);
    piece_offset_ += take;
    if (piece_offset_ == p.bytes) {
      ++piece_;
      piece_offset_ = 0;
    }
  }
  SYNOD_ASSERT(EVP_DigestUpdate(sums_->sha, out.data(), out.size()) == 1, "SHA-256 update");
  produced_bytes_ += out.size();
  SYNOD_ASSERT(produced_bytes_ <= image_bytes_, "produced more than the image holds");
  return out;
}

std::string BackupReader::Sha256() const {
  SYNOD_ASSERT(done(), "the SHA-256 covers the whole image");
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  SYNOD_ASSERT(copy != nullptr && EVP_MD_CTX_copy_ex(copy, sums_->sha) == 1, "SHA-256 copy");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  const int ok = EVP_DigestFinal_ex(copy, digest, &n);
  EVP_MD_CTX_free(copy);
  SYNOD_ASSERT(ok == 1 && n == kBackupShaBytes, "SHA-256 final");
  return std::string(reinterpret_cast<const char*>(digest), n);
}

Status RestoreBackup(const std::string& file, const std::string& kv_dir) {
  std::error_code ec;
  if (fs::exists(kv_dir, ec)) {
    return Status(ErrorCode::kInvalidArgument, kv_dir + " exists: restore into a new data dir");
  }
  auto mapped = MappedFile::Open(file);
  if (!mapped.ok()) return mapped.status();
  const std::string_view bytes = mapped.value()->view();
  if (bytes.size() < kBackupShaBytes + kImageMagic.size()) {
    return Status(ErrorCode::kCorruption, file + ": too short for a synod backup");
  }
  const std::string_view image = bytes.substr(0, bytes.size() - kBackupShaBytes);
  if (Sha256Of(image) != bytes.substr(image.size())) {
    return Status(ErrorCode::kCorruption, file + ": SHA-256 mismatch (damaged or truncated)");
  }
  const std::string incoming = kv_dir + ".restoring";
  if (const fs::path parent = fs::path(kv_dir).parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) return IoError("create " + parent.string(), ec);
  }
  fs::remove_all(incoming, ec);
  Status s = UnpackDirectory(image, incoming);
  if (!s.ok()) return s;
  fs::remove(fs::path(incoming) / kBackupPaddingFile, ec);
  {
    mvcc::StoreOptions so;
    so.path = incoming;
    so.create_if_missing = false;
    auto store = mvcc::Store::Open(so);
    if (!store.ok()) return store.error().ToStatus();
    auto reset = store.value()->ResetForNewCluster();
    if (!reset.ok()) return reset.error().ToStatus();
  }
  fs::rename(incoming, kv_dir, ec);
  if (ec) return IoError("rename " + incoming + " -> " + kv_dir, ec);
  return Status::Ok();
}

}  // namespace synod::server
