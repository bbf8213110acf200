// A node's simulated disk: one append-only log of checksummed records, with a write buffer
// that becomes durable only when a sync completes.
//
// Record layout (little-endian):  u32 length | u8 type | u32 crc32c(payload) |
//                                 u32 crc32c(previous 9 bytes) | payload
// The header has its own checksum so a flipped length can never pass for a torn tail.
//
// Faults modelled:
//  - crash: bytes not yet synced are lost, except that a random prefix of them may have
//    reached the platters, possibly ending inside a record (a torn write);
//  - bit flip: one bit of an already synced record changes (media corruption). Flips are only
//    put in records that have a durable successor: a damaged last record looks exactly like a
//    torn write, and the disk cannot tell the two apart (see Replay).
// Replay after a restart reads the records back: a damaged record at the very end is a torn
// write that was never acknowledged, and is cut off; a damaged record with data after it is
// corruption, and replay fails with kCorruption (the host then refuses to start).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/status.h"

namespace synod::sim {

enum class RecordType : uint8_t { kHardState = 1, kEntries = 2, kSnapshot = 3 };

struct DiskRecord {
  RecordType type = RecordType::kHardState;
  std::string payload;
};

struct CrashReport {
  uint64_t lost_bytes = 0;           // unsynced bytes that did not survive
  uint64_t kept_unsynced_bytes = 0;  // unsynced bytes that happened to reach the media
  bool torn = false;                 // the kept bytes end inside a record
};

struct ReplayResult {
  std::vector<DiskRecord> records;
  uint64_t truncated_bytes = 0;  // a torn tail that was cut off
};

class SimDisk {
 public:
  static constexpr size_t kHeaderBytes = 13;

  void Append(RecordType type, std::string_view payload);
  // Offset after the last append: the mark a sync started now will make durable.
  uint64_t written_bytes() const { return bytes_.size(); }
  uint64_t durable_bytes() const { return durable_; }
  uint64_t unsynced_bytes() const { return bytes_.size() - durable_; }
  // A sync started at written_bytes() == mark has completed.
  void SyncedTo(uint64_t mark);
  // Atomically and durably replaces the whole content (a new file written, synced and renamed
  // over the old one): the host's checkpoint after a snapshot.
  void ReplaceAll(const std::vector<DiskRecord>& records);

  // The process died: unsynced bytes are lost, or a random prefix of them survives.
  // survive_probability: chance that some unsynced bytes survive at all; when they do, the
  // cut falls inside a record (torn) half of the time.
  CrashReport Crash(Random& rng, double survive_probability);
  // Flips one random bit of a durable record that has a durable successor. Returns false when
  // there is no such record.
  bool FlipBit(Random& rng);
  // Flips one given bit anywhere (tests aim it at a chosen place).
  void FlipBitAt(uint64_t offset, int bit);

  // Reads every record back, cutting off a torn tail in place. kCorruption when a record
  // before the tail is damaged.
  Result<ReplayResult> Replay();

  // Raw bytes, for tests.
  const std::string& bytes() const { return bytes_; }

 private:
  enum class Parse { kOk, kTruncated, kBadHeader, kBadPayload };
  // Parses the record at `offset`; on kOk sets *end to the offset after it.
  Parse ParseAt(uint64_t offset, DiskRecord* rec, uint64_t* end) const;
  // Start offsets of whole records in [from, to).
  std::vector<uint64_t> RecordStarts(uint64_t from, uint64_t to) const;

  std::string bytes_;
  uint64_t durable_ = 0;
};

std::string EncodeRecord(RecordType type, std::string_view payload);

}  // namespace synod::sim
