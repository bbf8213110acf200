#include "storage/wal.h"

#include <algorithm>

#include "base/crc32c.h"
#include "storage/segment_scan.h"

namespace synod::storage {
namespace {

constexpr std::string_view kLockFileName = "LOCK";
constexpr uint64_t kSegmentBytesMin = 4096;
constexpr uint64_t kSegmentBytesMax = (1ull << 32) - 1;  // offsets are u32 on disk

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Status ValidateOptions(const WalOptions& o) {
  if (o.segment_bytes < kSegmentBytesMin || o.segment_bytes > kSegmentBytesMax) {
    return Status(ErrorCode::kInvalidArgument, "wal: segment_bytes must be in [4 KiB, 4 GiB)");
  }
  if (o.record_bytes_max == 0 ||
      o.record_bytes_max > o.segment_bytes - kSegmentHeaderBytes - kRecordHeaderBytes) {
    return Status(ErrorCode::kInvalidArgument,
                  "wal: record_bytes_max must be positive and fit in an empty segment");
  }
  if (o.write_buffer_bytes < kRecordHeaderBytes) {
    return Status(ErrorCode::kInvalidArgument, "wal: write_buffer_bytes too small");
  }
  if (o.segment_file_bytes_max < o.segment_bytes) {
    return Status(ErrorCode::kInvalidArgument, "wal: segment_file_bytes_max < segment_bytes");
  }
  return Status::Ok();
}

Status Corrupt(const std::string& path, uint64_t offset, const std::string& reason) {
  return Status(ErrorCode::kCorruption, "wal: corrupt record in " + path + " at offset " +
                                            std::to_string(offset) + " (" + reason +
                                            "); refusing to start");
}

}  // namespace

Wal::Wal(std::string dir, const WalOptions& options) : dir_(std::move(dir)), options_(options) {
  buffer_.reserve(options_.write_buffer_bytes);
}

Wal::~Wal() = default;

std::string Wal::PathOf(const SegmentHeader& h) const {
  return dir_ + "/" + SegmentFileName(h);
}

std::vector<SegmentInfo> Wal::segments() const {
  std::vector<SegmentInfo> out;
  for (const SegmentHeader& h : segments_) out.push_back({h.seq, h.first_lsn, PathOf(h)});
  return out;
}

Result<std::unique_ptr<Wal>> Wal::Open(const std::string& dir, const WalOptions& options,
                                       const RecordVisitor& visit, RecoveryInfo* info) {
  SYNOD_ASSERT(info != nullptr, "Wal::Open needs a RecoveryInfo");
  if (Status s = ValidateOptions(options); !s.ok()) return s;
  if (Status s = CreateDirectories(dir); !s.ok()) return s;
  std::unique_ptr<Wal> wal(new Wal(dir, options));

  const std::string lock_path = dir + "/" + std::string(kLockFileName);
  Result<File> lock = File::OpenReadWrite(lock_path, /*create=*/false);
  if (!lock.ok()) lock = File::OpenReadWrite(lock_path, /*create=*/true);
  if (!lock.ok()) return lock.status();
  wal->lock_ = std::move(lock.value());
  if (Status s = wal->lock_.LockExclusive(); !s.ok()) return s;
  Result<File> d = File::OpenDirectory(dir);
  if (!d.ok()) return d.status();
  wal->dir_file_ = std::move(d.value());

  *info = RecoveryInfo{};
  if (Status s = wal->Recover(visit, info); !s.ok()) return s;
  return wal;
}

Status Wal::Recover(const RecordVisitor& visit, RecoveryInfo* info) {
  Result<std::vector<std::string>> names = ListDirectory(dir_);
  if (!names.ok()) return names.status();
  bool removed_temp = false;
  for (const std::string& name : names.value()) {
    SegmentHeader h;
    if (ParseSegmentFileName(name, &h)) {
      segments_.push_back(h);
    } else if (EndsWith(name, kTempSuffix)) {
      // A segment whose creation did not finish; it was never renamed, so it holds nothing.
      if (Status s = RemoveFile(dir_ + "/" + name); !s.ok()) return s;
      removed_temp = true;
    }
  }
  if (removed_temp) {
    if (Status s = dir_file_.Sync(); !s.ok()) return s;
  }
  if (segments_.empty()) {
    info->first_lsn = info->next_lsn = 1;
    return CreateSegment(SegmentHeader{1, 1});
  }

  std::string buf;  // one segment at a time, at most segment_file_bytes_max
  uint64_t expected_lsn = segments_.front().first_lsn;
  info->first_lsn = expected_lsn;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const SegmentHeader& h = segments_[i];
    if (i > 0 && h.seq != segments_[i - 1].seq + 1) {
      return Status(ErrorCode::kCorruption, "wal: segment " + PathOf(h) + " follows " +
                                                PathOf(segments_[i - 1]) +
                                                ": a segment is missing; refusing to start");
    }
    const bool last = i + 1 == segments_.size();
    if (Status s = RecoverSegment(h, last, expected_lsn, visit, info, &buf); !s.ok()) return s;
    expected_lsn = info->next_lsn;
  }
  info->segments = segments_.size();
  next_lsn_ = info->next_lsn;
  return Status::Ok();
}

Status Wal::RecoverSegment(const SegmentHeader& name, bool last, uint64_t expected_lsn,
                           const RecordVisitor& visit, RecoveryInfo* info, std::string* buf) {
  const std::string path = PathOf(name);
  if (name.first_lsn != expected_lsn) {
    return Status(ErrorCode::kCorruption,
                  "wal: " + path + " starts at record " + std::to_string(name.first_lsn) +
                      " but the log before it ends at " + std::to_string(expected_lsn - 1) +
                      "; refusing to start");
  }
  Result<File> f = File::OpenReadWrite(path, /*create=*/false);
  if (!f.ok()) return f.status();
  Result<uint64_t> size = f.value().Size();
  if (!size.ok()) return size.status();
  if (size.value() > options_.segment_file_bytes_max) {
    return Status(ErrorCode::kLimitExceeded, "wal: " + path + " is larger than " +
                                                 std::to_string(options_.segment_file_bytes_max));
  }
  buf->resize(size.value());
  if (Status s = f.value().ReadAt(0, *buf); !s.ok()) return s;
  Result<SegmentHeader> header = DecodeSegmentHeader(*buf);
  if (!header.ok()) return Corrupt(path, 0, "segment header: " + header.status().message());
  if (header.value() != name) return Corrupt(path, 0, "segment header does not match name");

  uint64_t lsn = expected_lsn;
  auto on_record = [&](uint64_t, uint8_t type, std::string_view payload) {
    return visit(WalRecordView{lsn++, type, payload});
  };
  Result<SegmentScan> scanned = ScanSegment(
      *buf, ScanOptions{last, options_.record_bytes_max}, on_record);
  if (!scanned.ok()) return scanned.status();
  const SegmentScan& scan = scanned.value();
  if (scan.end == SegmentEnd::kCorrupt) return Corrupt(path, scan.damage_offset, scan.reason);
  info->records += scan.records;
  info->next_lsn = lsn;
  if (!last) return Status::Ok();

  capacity_ = std::max(size.value(), options_.segment_bytes);
  if (scan.end == SegmentEnd::kTorn) {
    info->torn_tail = true;
    info->torn_bytes = scan.dropped_bytes;
    info->warning = "wal: torn tail in " + path + " at offset " +
                    std::to_string(scan.damage_offset) + " (" + scan.reason + "): dropped " +
                    std::to_string(scan.dropped_bytes) + " bytes of an unsynced write";
    // Zero the torn bytes (truncate, then preallocate again) so that no stale fragment can
    // later sit behind new records and look like a record that follows damage.
    if (Status s = f.value().Truncate(scan.valid_bytes); !s.ok()) return s;
  }
  if (size.value() < capacity_ || scan.end == SegmentEnd::kTorn) {
    if (Status s = f.value().Preallocate(capacity_); !s.ok()) return s;
    if (Status s = f.value().DataSync(); !s.ok()) return s;
  }
  current_ = std::move(f.value());
  write_offset_ = synced_offset_ = scan.valid_bytes;
  return Status::Ok();
}

Status Wal::CreateSegment(const SegmentHeader& h) {
  // Build it under a temporary name and rename it once its header is durable, so a segment
  // under its real name always has a valid header.
  const std::string path = PathOf(h);
  const std::string temp = path + std::string(kTempSuffix);
  Result<File> f = File::OpenReadWrite(temp, /*create=*/true);
  if (!f.ok()) return f.status();
  char header[kSegmentHeaderBytes];
  EncodeSegmentHeader(h, header);
  if (Status s = f.value().Preallocate(options_.segment_bytes); !s.ok()) return s;
  if (Status s = f.value().WriteAt(0, std::string_view(header, sizeof(header))); !s.ok()) {
    return s;
  }
  if (Status s = f.value().DataSync(); !s.ok()) return s;
  if (Status s = RenameFile(temp, path); !s.ok()) return s;
  if (Status s = dir_file_.Sync(); !s.ok()) return s;
  segments_.push_back(h);
  current_ = std::move(f.value());
  capacity_ = options_.segment_bytes;
  write_offset_ = synced_offset_ = kSegmentHeaderBytes;
  ++stats_.segments_created;
  return Status::Ok();
}

Status Wal::Fail(Status s) {
  SYNOD_ASSERT(!s.ok(), "Fail with an ok status");
  if (failed_.ok()) failed_ = s;
  return s;
}

Result<uint64_t> Wal::Append(uint8_t type, std::string_view payload) {
  return AppendWithCrc(type, payload, Crc32c(payload));
}

Result<uint64_t> Wal::AppendWithCrc(uint8_t type, std::string_view payload,
                                    uint32_t payload_crc) {
  SYNOD_ASSERT(type != kInvalidRecordType, "record type 0 is reserved");
  if (!failed_.ok()) return failed_;
  if (payload.size() > options_.record_bytes_max) {
    return Status(ErrorCode::kLimitExceeded, "wal: record of " + std::to_string(payload.size()) +
                                                 " bytes exceeds record_bytes_max");
  }
  const uint64_t record_bytes = kRecordHeaderBytes + payload.size();
  if (write_offset_ + buffer_.size() + record_bytes > capacity_) {
    if (Status s = Rotate(); !s.ok()) return Fail(std::move(s));
  }
  SYNOD_ASSERT(write_offset_ + buffer_.size() + record_bytes <= capacity_,
               "a record must fit in a fresh segment");
  char header[kRecordHeaderBytes];
  EncodeRecordHeader(payload_crc, static_cast<uint32_t>(payload.size()),
                     static_cast<uint32_t>(synced_offset_), type, header);
  if (buffer_.size() + record_bytes > options_.write_buffer_bytes) {
    if (Status s = WriteBuffer(); !s.ok()) return Fail(std::move(s));
  }
  if (record_bytes > options_.write_buffer_bytes) {
    // Too large to buffer: write it straight through (the buffer is empty by now).
    const std::string_view parts[] = {std::string_view(header, sizeof(header)), payload};
    if (Status s = current_.WriteAt(write_offset_, parts); !s.ok()) return Fail(std::move(s));
    write_offset_ += record_bytes;
    ++stats_.writes;
  } else {
    buffer_.append(header, sizeof(header));
    buffer_.append(payload);
  }
  SYNOD_ASSERT(buffer_.size() <= options_.write_buffer_bytes, "write buffer over its limit");
  ++stats_.records;
  stats_.bytes += record_bytes;
  return next_lsn_++;
}

Status Wal::WriteBuffer() {
  if (buffer_.empty()) return Status::Ok();
  SYNOD_ASSERT(write_offset_ + buffer_.size() <= capacity_, "write past the segment end");
  if (Status s = current_.WriteAt(write_offset_, buffer_); !s.ok()) return s;
  write_offset_ += buffer_.size();
  buffer_.clear();
  ++stats_.writes;
  return Status::Ok();
}

Status Wal::Flush() {
  if (!failed_.ok()) return failed_;
  if (Status s = WriteBuffer(); !s.ok()) return Fail(std::move(s));
  return Status::Ok();
}

Status Wal::Sync() {
  if (Status s = Flush(); !s.ok()) return s;
  if (synced_offset_ == write_offset_) return Status::Ok();
  if (Status s = current_.DataSync(); !s.ok()) return Fail(std::move(s));
  synced_offset_ = write_offset_;
  ++stats_.syncs;
  return Status::Ok();
}

Status Wal::Rotate() {
  // The old segment becomes durable in full before the next exists: recovery relies on it
  // to call any damage in a segment that is not the last one corruption.
  if (Status s = Sync(); !s.ok()) return s;
  const SegmentHeader next{segments_.back().seq + 1, next_lsn_};
  return CreateSegment(next);
}

Status Wal::ReleaseBefore(uint64_t lsn) {
  if (!failed_.ok()) return failed_;
  // Segment 0 holds only LSNs below segments_[1].first_lsn; the last segment always stays.
  while (segments_.size() > 1 && segments_[1].first_lsn <= lsn) {
    if (Status s = RemoveFile(PathOf(segments_.front())); !s.ok()) return Fail(std::move(s));
    // One directory sync per unlink keeps the kept segments a contiguous run after a crash.
    if (Status s = dir_file_.Sync(); !s.ok()) return Fail(std::move(s));
    segments_.erase(segments_.begin());
    ++stats_.segments_removed;
  }
  return Status::Ok();
}

}  // namespace synod::storage
