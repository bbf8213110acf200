// Wal: a segmented write-ahead log of typed, checksummed records in a directory of its own.
//
// Records get consecutive record numbers (LSNs) starting at 1. Append copies a record into a
// bounded in-memory buffer; Flush hands the buffer to the OS; Sync flushes and fdatasyncs, and
// only then are the records durable. A segment is fdatasynced in full before the next one is
// created, so only the last segment can ever hold a torn write (see segment_scan.h).
//
// Thread safety: none. One thread owns a Wal; WalWriter (wal_writer.h) puts a sync thread and
// group commit in front of it. After any I/O error the Wal is failed for good and every call
// returns that error: once an fdatasync has failed, the page cache may have dropped the data
// it was asked to write, and writing on would turn a lost write into a silent hole.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/file.h"
#include "storage/segment_format.h"

namespace synod::storage {

struct WalOptions {
  // Size each segment is preallocated to; a record that does not fit starts a new segment.
  // At most 4 GiB, because offsets inside a segment are 32-bit.
  uint64_t segment_bytes = 64 << 20;
  // Largest payload of one record; at most segment_bytes minus the headers.
  uint64_t record_bytes_max = 8 << 20;
  // Records are gathered here between writes; a larger record is written on its own.
  uint64_t write_buffer_bytes = 1 << 20;
  // Open refuses segment files larger than this (it reads one whole segment at a time).
  uint64_t segment_file_bytes_max = 1ull << 30;
};

struct WalRecordView {
  uint64_t lsn = 0;
  uint8_t type = 0;
  std::string_view payload;  // valid only during the visitor call
};
// Receives each recovered record in order; a non-ok Status aborts Open with it.
using RecordVisitor = std::function<Status(const WalRecordView&)>;

// What Open found. `warning` is set when a torn tail was cut off; the caller logs it.
struct RecoveryInfo {
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t first_lsn = 0;  // of the oldest record kept on disk
  uint64_t next_lsn = 0;   // the number the next appended record gets
  bool torn_tail = false;
  uint64_t torn_bytes = 0;
  std::string warning;
};

struct SegmentInfo {
  uint64_t seq = 0;
  uint64_t first_lsn = 0;
  std::string path;
};

struct WalStats {
  uint64_t records = 0;           // appended since Open
  uint64_t bytes = 0;             // appended since Open, headers included
  uint64_t writes = 0;            // write calls to the OS
  uint64_t syncs = 0;             // fdatasync calls on segments
  uint64_t segments_created = 0;
  uint64_t segments_removed = 0;
};

class Wal {
 public:
  // Opens (creating if needed) the WAL in `dir`, passes every record to `visit`, cuts off a
  // torn tail, and readies the log for appends. kCorruption, naming the file and offset, when
  // durable data is damaged; kUnavailable when another handle holds the directory.
  static Result<std::unique_ptr<Wal>> Open(const std::string& dir, const WalOptions& options,
                                           const RecordVisitor& visit, RecoveryInfo* info);
  // Closes the files without flushing: whatever was not synced is lost, as in a crash.
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends one record and returns its LSN. REQUIRES: type != 0. kLimitExceeded for a payload
  // over record_bytes_max.
  Result<uint64_t> Append(uint8_t type, std::string_view payload);
  // The same, with the payload's CRC32C already computed by the caller.
  Result<uint64_t> AppendWithCrc(uint8_t type, std::string_view payload, uint32_t payload_crc);
  Status Flush();  // writes buffered records to the OS (not durable yet)
  Status Sync();   // Flush, then fdatasync: every record appended so far is durable
  // Deletes the segments all of whose records have LSNs below `lsn`; never the current one.
  Status ReleaseBefore(uint64_t lsn);

  uint64_t next_lsn() const { return next_lsn_; }
  const WalStats& stats() const { return stats_; }
  const std::string& dir() const { return dir_; }
  std::vector<SegmentInfo> segments() const;

 private:
  Wal(std::string dir, const WalOptions& options);

  Status Recover(const RecordVisitor& visit, RecoveryInfo* info);
  Status RecoverSegment(const SegmentHeader& name, bool last, uint64_t expected_lsn,
                        const RecordVisitor& visit, RecoveryInfo* info, std::string* buf);
  Status CreateSegment(const SegmentHeader& h);
  Status Rotate();
  Status WriteBuffer();
  Status Fail(Status s);
  std::string PathOf(const SegmentHeader& h) const;

  const std::string dir_;
  const WalOptions options_;
  File lock_;
  File dir_file_;
  std::vector<SegmentHeader> segments_;  // oldest first; the last is being written
  File current_;
  uint64_t capacity_ = 0;       // size of the current segment file
  uint64_t write_offset_ = 0;   // file offset where buffer_ will be written
  uint64_t synced_offset_ = 0;  // end of the durable prefix: where the current batch began
  std::string buffer_;          // capacity write_buffer_bytes, never grown past it
  uint64_t next_lsn_ = 1;
  Status failed_;               // sticky: set by the first I/O error
  WalStats stats_;
};

}  // namespace synod::storage
