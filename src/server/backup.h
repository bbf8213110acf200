// Backups of the key space, as Maintenance.Snapshot streams them and `synodctl snapshot
// restore` reads them:
//   snapshot image of a store checkpoint (snapshot_image.h) | SHA-256 of that image (32 bytes)
// etcd likewise appends a SHA-256 of its database to the snapshot it streams, and etcdctl
// (3.4) takes a file for complete only if its size is 32 more than a multiple of 512 (bbolt's
// pages): the image therefore holds one more file, kBackupPaddingFile, that pads it to a
// multiple of 512 bytes (restore removes it; RocksDB ignores it anyway). The image keeps
// its own CRC32C, so a damaged file is caught by two sums; the SHA-256 is what tools outside
// synod can check (`head -c -32 FILE | sha256sum`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace synod::server {

inline constexpr size_t kBackupShaBytes = 32;
inline constexpr size_t kBackupAlignBytes = 512;
inline constexpr std::string_view kBackupPaddingFile = "SYNOD-BACKUP-PADDING";

// Produces a directory's snapshot image piece by piece, without holding it in memory, and the
// SHA-256 of what it produced. The files must not change while it reads them (a checkpoint's
// files never do).
class BackupReader {
 public:
  static Result<std::unique_ptr<BackupReader>> Open(const std::string& dir);
  ~BackupReader();

  uint64_t image_bytes() const { return image_bytes_; }
  uint64_t produced_bytes() const { return produced_bytes_; }
  bool done() const { return produced_bytes_ == image_bytes_; }
  // The next at most `bytes_max` bytes of the image (empty once done()).
  Result<std::string> Next(size_t bytes_max);
  // REQUIRES: done().
  std::string Sha256() const;

 private:
  struct Piece {
    std::string literal;    // header bytes, or
    std::string path;       // a file's contents, or
    bool checksum = false;  // the image's CRC32C of everything before it
    uint64_t bytes = 0;
  };
  struct Sums;
  BackupReader();

  std::vector<Piece> pieces_;
  size_t piece_ = 0;
  uint64_t piece_offset_ = 0;
  uint64_t image_bytes_ = 0;
  uint64_t produced_bytes_ = 0;
  std::unique_ptr<Sums> sums_;
};

// Builds `kv_dir` (which must not exist) from the backup `file`: checks its SHA-256 and the
// image's checksum, unpacks it and makes the store forget the log it came from
// (mvcc::Store::ResetForNewCluster), so a new cluster started on the data dir serves its keys
// at their revisions. kCorruption for a damaged file.
Status RestoreBackup(const std::string& file, const std::string& kv_dir);

}  // namespace synod::server
