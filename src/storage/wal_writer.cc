#include "storage/wal_writer.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "base/crc32c.h"

namespace synod::storage {
namespace {

uint64_t RecordBytes(const std::string& payload) { return kRecordHeaderBytes + payload.size(); }

}  // namespace

Result<std::unique_ptr<WalWriter>> WalWriter::Open(const std::string& dir,
                                                   const WalWriterOptions& options,
                                                   const RecordVisitor& visit,
                                                   RecoveryInfo* info) {
  if (options.pending_bytes_max < options.wal.record_bytes_max + kRecordHeaderBytes ||
      options.pending_records_max == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "wal: pending limits must admit one record of record_bytes_max");
  }
  Result<std::unique_ptr<Wal>> wal = Wal::Open(dir, options.wal, visit, info);
  if (!wal.ok()) return wal.status();
  std::unique_ptr<WalWriter> w(new WalWriter(std::move(wal.value()), options));
  w->thread_ = std::thread([raw = w.get()] { raw->Run(); });
  pthread_setname_np(w->thread_.native_handle(), "synod-wal");
  return w;
}

WalWriter::WalWriter(std::unique_ptr<Wal> wal, const WalWriterOptions& options)
    : options_(options), wal_(std::move(wal)) {
  next_lsn_ = wal_->next_lsn();
  done_lsn_ = next_lsn_ - 1;
  segments_ = wal_->segments();
  segments_version_ = wal_->stats().segments_created + wal_->stats().segments_removed;
}

WalWriter::~WalWriter() { (void)Close(); }

Result<uint64_t> WalWriter::Append(uint8_t type, std::string payload, bool sync, Callback done) {
  SYNOD_ASSERT(type != kInvalidRecordType, "record type 0 is reserved");
  std::vector<Pending> one(1);
  one[0].type = type;
  one[0].payload_crc = Crc32c(payload);  // on the producer's thread, not the sync thread
  one[0].payload = std::move(payload);
  one[0].done = std::move(done);
  return Enqueue(one, RecordBytes(one[0].payload), sync, Writer::kSyncThread);
}

Result<uint64_t> WalWriter::AppendBatch(std::vector<Record> records, bool sync, Callback done,
                                        Writer writer) {
  SYNOD_ASSERT(!records.empty(), "AppendBatch of no records");
  std::vector<Pending> pending(records.size());
  uint64_t bytes = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    SYNOD_ASSERT(records[i].type != kInvalidRecordType, "record type 0 is reserved");
    pending[i].type = records[i].type;
    pending[i].payload_crc = Crc32c(records[i].payload);
    pending[i].payload = std::move(records[i].payload);
    bytes += RecordBytes(pending[i].payload);
  }
  pending.back().done = std::move(done);
  return Enqueue(pending, bytes, sync, writer);
}

Result<uint64_t> WalWriter::Enqueue(std::vector<Pending>& records, uint64_t bytes, bool sync,
                                    Writer writer) {
  for (const Pending& p : records) {
    if (p.payload.size() > options_.wal.record_bytes_max) {
      return Status(ErrorCode::kLimitExceeded, "wal: record over record_bytes_max");
    }
  }
  if (bytes > options_.pending_bytes_max || records.size() > options_.pending_records_max) {
    return Status(ErrorCode::kLimitExceeded, "wal: batch over the pending limits");
  }
  std::unique_lock lk(mu_);
  space_cv_.wait(lk, [&] {
    return (pending_bytes_ + bytes <= options_.pending_bytes_max &&
            pending_records_ + records.size() <= options_.pending_records_max) ||
           !failed_.ok() || stopping_;
  });
  if (stopping_) return Status(ErrorCode::kUnavailable, "wal: writer is closed");
  if (!failed_.ok()) return failed_;
  for (Pending& p : records) {
    p.lsn = next_lsn_++;
    queue_.push_back(std::move(p));
  }
  pending_bytes_ += bytes;
  pending_records_ += records.size();
  SYNOD_ASSERT(pending_bytes_ <= options_.pending_bytes_max, "pending bytes over the limit");
  stats_.pending_bytes_peak = std::max(stats_.pending_bytes_peak, pending_bytes_);
  queue_sync_ = queue_sync_ || sync;
  stats_.records += records.size();
  // A busy sync thread finds the queue when its batch ends, whoever was to write it.
  if (writer == Writer::kSyncThread) work_cv_.notify_one();
  return next_lsn_ - 1;
}

Status WalWriter::Wait(uint64_t lsn) {
  std::unique_lock lk(mu_);
  SYNOD_ASSERT(lsn > 0 && lsn < next_lsn_, "Wait for a record that was never appended");
  while (done_lsn_ < lsn && failed_.ok()) {
    // The record is still queued and nobody is writing: write it here rather than wake the
    // sync thread and sleep until it is done.
    if (!busy_ && !queue_.empty() && !stopping_) {
      WriteQueued(lk);
    } else {
      done_cv_.wait(lk);
    }
  }
  return done_lsn_ >= lsn ? Status::Ok() : failed_;
}

Status WalWriter::ReleaseBefore(uint64_t lsn) {
  std::unique_lock lk(mu_);
  if (stopping_) return Status(ErrorCode::kUnavailable, "wal: writer is closed");
  release_lsn_ = std::max(release_lsn_, lsn);
  const uint64_t generation = ++release_asked_;
  work_cv_.notify_one();
  done_cv_.wait(lk, [&] { return release_done_ >= generation; });
  return release_status_;
}

Status WalWriter::Close() {
  {
    std::lock_guard lk(mu_);
    if (closed_) return failed_;
    SYNOD_ASSERT(!stopping_, "WalWriter::Close called from two threads at once");
    stopping_ = true;
  }
  work_cv_.notify_one();
  space_cv_.notify_all();
  thread_.join();
  std::lock_guard lk(mu_);
  closed_ = true;
  if (failed_.ok()) {
    // Records appended with sync = false were written but not yet fdatasynced.
    if (Status s = wal_->Sync(); !s.ok()) failed_ = s;
  }
  PublishWalState();
  wal_.reset();
  return failed_;
}

Status WalWriter::WriteBatch(std::vector<Pending>& batch, bool sync) {
  for (const Pending& p : batch) {
    Result<uint64_t> lsn = wal_->AppendWithCrc(p.type, p.payload, p.payload_crc);
    if (!lsn.ok()) return lsn.status();
    SYNOD_ASSERT(lsn.value() == p.lsn, "the Wal numbered a record differently from the queue");
  }
  if (!sync) return wal_->Flush();
  if (!options_.on_sync) return wal_->Sync();
  const auto start = std::chrono::steady_clock::now();
  Status s = wal_->Sync();
  options_.on_sync(std::chrono::steady_clock::now() - start);
  return s;
}

void WalWriter::PublishWalState() {
  const WalStats& ws = wal_->stats();
  // Copy the segment list only when it changed: segments come and go rarely.
  const uint64_t version = ws.segments_created + ws.segments_removed;
  if (version != segments_version_) {
    segments_ = wal_->segments();
    segments_version_ = version;
  }
  stats_.syncs = ws.syncs;
}

void WalWriter::WriteQueued(std::unique_lock<std::mutex>& lk) {
  SYNOD_ASSERT(!busy_ && !queue_.empty(), "WriteQueued without work or while another writes");
  busy_ = true;
  std::vector<Pending> batch;
  batch.swap(queue_);
  const bool sync = queue_sync_;
  queue_sync_ = false;
  Status status = failed_;
  lk.unlock();
  // The only place records reach the disk: no lock is held across write and fdatasync.
  if (status.ok()) status = WriteBatch(batch, sync);
  uint64_t bytes = 0;
  for (const Pending& p : batch) bytes += RecordBytes(p.payload);
  lk.lock();
  if (status.ok()) {
    done_lsn_ = batch.back().lsn;
  } else if (failed_.ok()) {
    failed_ = status;
  }
  pending_bytes_ -= bytes;
  pending_records_ -= batch.size();
  ++stats_.batches;
  stats_.batch_records_max = std::max<uint64_t>(stats_.batch_records_max, batch.size());
  PublishWalState();
  done_cv_.notify_all();
  space_cv_.notify_all();
  lk.unlock();
  // Still busy_: the next batch's callbacks must not overtake these.
  for (Pending& p : batch) {
    if (p.done) p.done(status);
  }
  lk.lock();
  busy_ = false;
  // Work queued meanwhile goes to the sync thread, or to a waiter woken here. With nothing
  // queued the sync thread stays asleep (a wakeup for nothing costs a lone writer's next
  // record its own write: the thread may still be up when that record arrives).
  if (!queue_.empty() || release_asked_ != release_done_ || stopping_) work_cv_.notify_one();
  done_cv_.notify_all();
}

void WalWriter::Run() {
  std::unique_lock lk(mu_);
  for (;;) {
    work_cv_.wait(lk, [&] {
      return !busy_ && (!queue_.empty() || release_asked_ != release_done_ || stopping_);
    });
    if (!queue_.empty()) WriteQueued(lk);
    if (release_asked_ != release_done_ && !busy_) {
      busy_ = true;
      const uint64_t generation = release_asked_;
      const uint64_t lsn = release_lsn_;
      Status status = failed_;
      lk.unlock();
      if (status.ok()) status = wal_->ReleaseBefore(lsn);
      lk.lock();
      busy_ = false;
      if (!status.ok() && failed_.ok()) failed_ = status;
      release_status_ = status;
      release_done_ = generation;
      PublishWalState();
      done_cv_.notify_all();
    }
    if (stopping_ && !busy_ && queue_.empty() && release_asked_ == release_done_) break;
  }
}

WalWriterStats WalWriter::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

std::vector<SegmentInfo> WalWriter::segments() const {
  std::lock_guard lk(mu_);
  return segments_;
}

uint64_t WalWriter::next_lsn() const {
  std::lock_guard lk(mu_);
  return next_lsn_;
}

}  // namespace synod::storage
