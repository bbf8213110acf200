#include "sim/disk.h"

#include "base/crc32c.h"
#include "sim/codec.h"

namespace synod::sim {

std::string EncodeRecord(RecordType type, std::string_view payload) {
  SYNOD_ASSERT(payload.size() < (uint64_t{1} << 31), "record too large");
  ByteWriter w;
  w.PutU32(static_cast<uint32_t>(payload.size()));
  w.PutU8(static_cast<uint8_t>(type));
  w.PutU32(Crc32c(payload));
  w.PutU32(Crc32c(w.str()));
  w.str().append(payload);
  return w.Take();
}

void SimDisk::Append(RecordType type, std::string_view payload) {
  bytes_ += EncodeRecord(type, payload);
}

void SimDisk::SyncedTo(uint64_t mark) {
  SYNOD_ASSERT(mark <= bytes_.size(), "sync past the written end");
  if (mark > durable_) durable_ = mark;
}

void SimDisk::ReplaceAll(const std::vector<DiskRecord>& records) {
  std::string fresh;
  for (const DiskRecord& r : records) fresh += EncodeRecord(r.type, r.payload);
  bytes_ = std::move(fresh);
  durable_ = bytes_.size();
}

CrashReport SimDisk::Crash(Random& rng, double survive_probability) {
  CrashReport report;
  const uint64_t unsynced = bytes_.size() - durable_;
  uint64_t keep = 0;
  if (unsynced > 0 && rng.Chance(survive_probability)) {
    if (rng.Chance(0.5)) {
      keep = rng.Between(1, unsynced);  // anywhere, usually inside a record: torn
    } else {
      // Whole records only: written by the kernel but never acknowledged to Raft.
      const std::vector<uint64_t> starts = RecordStarts(durable_, bytes_.size());
      const uint64_t pick = rng.Uniform(starts.size() + 1);
      keep = (pick == starts.size() ? bytes_.size() : starts[pick]) - durable_;
    }
  }
  const std::vector<uint64_t> starts = RecordStarts(durable_, bytes_.size());
  const uint64_t end = durable_ + keep;
  report.torn = keep > 0 && end < bytes_.size();
  for (uint64_t s : starts) report.torn = report.torn && s != end;
  report.kept_unsynced_bytes = keep;
  report.lost_bytes = unsynced - keep;
  bytes_.resize(end);
  durable_ = bytes_.size();
  return report;
}

bool SimDisk::FlipBit(Random& rng) {
  std::vector<uint64_t> starts = RecordStarts(0, durable_);
  if (starts.size() < 2) return false;
  // Any record but the last durable one, so the damage always has a durable successor.
  const uint64_t i = rng.Uniform(starts.size() - 1);
  const uint64_t begin = starts[i], end = starts[i + 1];
  FlipBitAt(rng.Between(begin, end - 1), static_cast<int>(rng.Uniform(8)));
  return true;
}

void SimDisk::FlipBitAt(uint64_t offset, int bit) {
  SYNOD_ASSERT(offset < bytes_.size() && bit >= 0 && bit < 8, "bit outside the disk");
  bytes_[offset] = static_cast<char>(bytes_[offset] ^ (1u << bit));
}

SimDisk::Parse SimDisk::ParseAt(uint64_t offset, DiskRecord* rec, uint64_t* end) const {
  if (bytes_.size() - offset < kHeaderBytes) return Parse::kTruncated;
  const std::string_view header(bytes_.data() + offset, kHeaderBytes);
  ByteReader r(header);
  uint32_t length = 0, payload_crc = 0, header_crc = 0;
  uint8_t type = 0;
  const bool parsed =
      r.GetU32(&length) && r.GetU8(&type) && r.GetU32(&payload_crc) && r.GetU32(&header_crc);
  SYNOD_ASSERT(parsed, "header is exactly kHeaderBytes long");
  if (Crc32c(header.substr(0, kHeaderBytes - 4)) != header_crc) return Parse::kBadHeader;
  if (type < 1 || type > 3) return Parse::kBadHeader;
  if (bytes_.size() - offset - kHeaderBytes < length) return Parse::kTruncated;
  const std::string_view payload(bytes_.data() + offset + kHeaderBytes, length);
  if (Crc32c(payload) != payload_crc) return Parse::kBadPayload;
  rec->type = static_cast<RecordType>(type);
  rec->payload.assign(payload);
  *end = offset + kHeaderBytes + length;
  return Parse::kOk;
}

std::vector<uint64_t> SimDisk::RecordStarts(uint64_t from, uint64_t to) const {
  // Only ever called on well-formed regions (what this class itself wrote), so the length
  // fields can be trusted here.
  std::vector<uint64_t> starts;
  uint64_t off = from;
  while (off + kHeaderBytes <= to) {
    ByteReader r(std::string_view(bytes_.data() + off, 4));
    uint32_t length = 0;
    SYNOD_ASSERT(r.GetU32(&length), "4 bytes available");
    if (off + kHeaderBytes + length > to) break;
    starts.push_back(off);
    off += kHeaderBytes + length;
  }
  return starts;
}

Result<ReplayResult> SimDisk::Replay() {
  ReplayResult out;
  uint64_t off = 0;
  while (off < bytes_.size()) {
    DiskRecord rec;
    uint64_t end = 0;
    const Parse p = ParseAt(off, &rec, &end);
    if (p == Parse::kOk) {
      out.records.push_back(std::move(rec));
      off = end;
      continue;
    }
    // A damaged record is a torn tail only if nothing follows it. A header that fails its
    // checksum cannot say where the record ends, so it is torn only when too short to hold a
    // header at all (that case is kTruncated).
    bool tail = p == Parse::kTruncated;
    if (p == Parse::kBadPayload) {
      uint32_t length = 0;
      ByteReader r(std::string_view(bytes_.data() + off, 4));
      SYNOD_ASSERT(r.GetU32(&length), "header was parsed");
      tail = off + kHeaderBytes + length == bytes_.size();
    }
    if (!tail) {
      return Status(ErrorCode::kCorruption, "damaged record at offset " + std::to_string(off) +
                                                " of " + std::to_string(bytes_.size()) +
                                                " bytes, with data after it");
    }
    out.truncated_bytes = bytes_.size() - off;
    bytes_.resize(off);
    if (durable_ > off) durable_ = off;
    break;
  }
  return out;
}

}  // namespace synod::sim
