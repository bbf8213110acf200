// WalWriter: group commit in front of a Wal. Any number of threads append; one thread at a
// time owns the Wal and its files: the sync thread, or a thread blocked in Wait that finds the
// sync thread idle and writes the queue itself (saving two thread switches on the latency of a
// lone writer, such as a node's event loop). Each time round, the writing thread takes
// everything queued so far, writes it and issues a single fdatasync, so one fdatasync covers
// every record appended before the batch was taken, and records appended while an fdatasync
// runs ride on the next one. No lock is held across a write or an fdatasync.
//
// Back-pressure: the records and bytes appended but not yet durable (queued plus in flight)
// never exceed pending_records_max and pending_bytes_max; Append blocks until there is room.
//
// Completion: Append returns the record's LSN. Wait(lsn) blocks until it is durable, or the
// optional callback runs once it is, on the thread that wrote the batch (the sync thread or a
// waiter); callbacks run in LSN order, outside the lock, and must be short: the next batch
// waits for them. A record appended with
// sync = false is written to the OS in its batch but fdatasynced only when a later record
// asks for it; its Wait and callback complete once it is written.
//
// After an I/O error the writer is failed for good: queued records complete with the error
// and every later call returns it (see wal.h for why there is no retry).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "storage/wal.h"

namespace synod::storage {

struct WalWriterOptions {
  WalOptions wal;
  // Bytes (headers included) appended but not yet durable, at most. At least
  // record_bytes_max plus a record header, so every allowed record can be admitted.
  uint64_t pending_bytes_max = 64 << 20;
  // Records appended but not yet durable, at most; bounds the queue's bookkeeping.
  uint64_t pending_records_max = 1 << 16;
  // Optional: told, on the sync thread, how long each batch's Wal::Sync (flush and fdatasync)
  // took, for latency metrics. Must be quick and must not call the writer.
  std::function<void(std::chrono::nanoseconds)> on_sync;
};

struct WalWriterStats {
  uint64_t records = 0;            // appended
  uint64_t batches = 0;            // taken by the sync thread
  uint64_t syncs = 0;              // fdatasyncs on segments, rotations included
  uint64_t batch_records_max = 0;  // most records covered by one batch
  uint64_t pending_bytes_peak = 0;  // most bytes ever pending (<= pending_bytes_max)
};

class WalWriter {
 public:
  using Callback = std::function<void(const Status&)>;
  // Who writes a record appended while no thread is writing: the sync thread (woken at
  // once), or the appending thread itself, which promises to Wait for the record next and
  // then writes the queue in Wait. The second saves the sync thread's wakeup and the wakeup
  // back, which for a lone writer (a node's event loop) are most of a record's latency
  // besides the fdatasync.
  enum class Writer { kSyncThread, kCallerWaits };
  struct Record {
    uint8_t type = 0;
    std::string payload;
  };

  // Opens the Wal (recovery as in Wal::Open) and starts the sync thread.
  static Result<std::unique_ptr<WalWriter>> Open(const std::string& dir,
                                                 const WalWriterOptions& options,
                                                 const RecordVisitor& visit, RecoveryInfo* info);
  // Close()s; a caller that needs the final status calls Close() itself first.
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Thread-safe. Queues one record and returns its LSN. kLimitExceeded for a payload over
  // record_bytes_max; the sticky error once failed; kUnavailable after Close.
  Result<uint64_t> Append(uint8_t type, std::string payload, bool sync = true,
                          Callback done = {});
  // Queues records with consecutive LSNs, admitted together; returns the last LSN. `done`
  // runs once all of them are complete. kLimitExceeded if they exceed a pending limit.
  Result<uint64_t> AppendBatch(std::vector<Record> records, bool sync, Callback done = {},
                               Writer writer = Writer::kSyncThread);
  // Blocks until record `lsn` is complete. REQUIRES: lsn was returned by an Append.
  Status Wait(uint64_t lsn);
  // Deletes the segments all of whose records have LSNs below `lsn`, after every record
  // queued before the call is complete; returns once done.
  Status ReleaseBefore(uint64_t lsn);
  // Completes everything queued, stops the sync thread and closes the files.
  Status Close();

  WalWriterStats stats() const;
  std::vector<SegmentInfo> segments() const;
  uint64_t next_lsn() const;

 private:
  struct Pending {
    uint64_t lsn = 0;
    uint8_t type = 0;
    uint32_t payload_crc = 0;
    std::string payload;
    Callback done;
  };

  WalWriter(std::unique_ptr<Wal> wal, const WalWriterOptions& options);
  Result<uint64_t> Enqueue(std::vector<Pending>& records, uint64_t bytes, bool sync,
                           Writer writer);
  void Run();
  // Writes everything queued as one batch. REQUIRES: lk holds mu_, !busy_, queue_ not empty;
  // returns with lk held again after the batch's callbacks ran.
  void WriteQueued(std::unique_lock<std::mutex>& lk);
  Status WriteBatch(std::vector<Pending>& batch, bool sync);
  void PublishWalState();  // REQUIRES: mu_ held; copies stats and segments from the Wal

  const WalWriterOptions options_;
  // Touched only by the thread that set busy_ (and by Close after the sync thread stopped).
  std::unique_ptr<Wal> wal_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // sync thread: work queued, release asked, or stop
  std::condition_variable space_cv_;  // producers: pending bytes went down
  std::condition_variable done_cv_;   // waiters: done_lsn_ moved, release finished, failure
  // Everything below is guarded by mu_.
  std::vector<Pending> queue_;
  bool queue_sync_ = false;     // some queued record asked for an fdatasync
  bool busy_ = false;           // a thread is writing a batch or releasing segments
  uint64_t pending_bytes_ = 0;  // queued plus in flight
  uint64_t pending_records_ = 0;
  uint64_t next_lsn_ = 0;
  uint64_t done_lsn_ = 0;       // every record up to here is complete
  uint64_t release_lsn_ = 0;
  uint64_t release_asked_ = 0;  // generation of the latest ReleaseBefore request
  uint64_t release_done_ = 0;   // generation the sync thread finished
  Status release_status_;
  Status failed_;
  bool stopping_ = false;
  bool closed_ = false;
  WalWriterStats stats_;
  std::vector<SegmentInfo> segments_;
  uint64_t segments_version_ = 0;  // segments created plus removed when segments_ was copied

  std::thread thread_;
};

}  // namespace synod::storage
