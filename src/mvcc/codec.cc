#include "mvcc/codec.h"

#include <limits>

#include "base/assert.h"

namespace synod::mvcc::codec {
namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xff';
constexpr char kTerminator = '\x01';
constexpr char kAfterTerminator = '\x02';
constexpr uint8_t kFlagTombstone = 1;

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint at the front of `in` and advances past it.
std::optional<uint64_t> TakeVarint(std::string_view* in) {
  uint64_t v = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  return std::nullopt;
}

void PutSigned(std::string* out, int64_t v) { PutVarint(out, static_cast<uint64_t>(v)); }

bool TakeSigned(std::string_view* in, int64_t* v) {
  const auto u = TakeVarint(in);
  if (!u) return false;
  *v = static_cast<int64_t>(*u);
  return true;
}

void AppendEscaped(std::string* out, std::string_view user_key) {
  for (char c : user_key) {
    out->push_back(c);
    if (c == kEscape) out->push_back(kEscapedZero);
  }
}

}  // namespace

std::string SpaceEnd(std::string_view prefix) {
  SYNOD_ASSERT(!prefix.empty() && prefix.back() != '\xff', "space prefix has no successor");
  std::string end(prefix);
  end.back() = static_cast<char>(end.back() + 1);
  return end;
}

void PutBE64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetBE64(std::string_view bytes) {
  SYNOD_ASSERT(bytes.size() >= 8, "GetBE64 on fewer than 8 bytes");
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

std::string EncodeInt(int64_t v) {
  std::string out;
  PutBE64(&out, static_cast<uint64_t>(v));
  return out;
}

std::optional<int64_t> DecodeInt(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  return static_cast<int64_t>(GetBE64(bytes));
}

std::string IndexKeyPrefix(std::string_view user_key) {
  std::string out(kIndexPrefix);
  out.reserve(kIndexPrefix.size() + user_key.size() + 2 + 8);
  AppendEscaped(&out, user_key);
  out.push_back(kEscape);
  out.push_back(kTerminator);
  return out;
}

std::string IndexKey(std::string_view user_key, int64_t revision) {
  SYNOD_ASSERT(revision >= 0, "negative revision in an index key");
  std::string out = IndexKeyPrefix(user_key);
  // Complemented so that a key's newest version sorts first: a read at revision R seeks to
  // (key, R) and lands on the newest version at or below R.
  PutBE64(&out, ~static_cast<uint64_t>(revision));
  return out;
}

std::string IndexKeyAfter(std::string_view user_key) {
  std::string out = IndexKeyPrefix(user_key);
  out.back() = kAfterTerminator;
  return out;
}

std::optional<ParsedIndexKey> ParseIndexKey(std::string_view index_key) {
  if (!index_key.starts_with(kIndexPrefix)) return std::nullopt;
  ParsedIndexKey parsed;
  size_t i = kIndexPrefix.size();
  for (;;) {
    if (i + 1 >= index_key.size()) return std::nullopt;
    const char c = index_key[i];
    if (c != kEscape) {
      parsed.user_key.push_back(c);
      ++i;
      continue;
    }
    const char next = index_key[i + 1];
    i += 2;
    if (next == kTerminator) break;
    if (next != kEscapedZero) return std::nullopt;
    parsed.user_key.push_back(kEscape);
  }
  if (index_key.size() - i != 8) return std::nullopt;
  parsed.prefix_size = i;
  parsed.revision = static_cast<int64_t>(~GetBE64(index_key.substr(i)));
  if (parsed.revision < 0) return std::nullopt;
  return parsed;
}

std::string EncodeIndexEntry(const IndexEntry& e) {
  std::string out;
  out.push_back(static_cast<char>(e.tombstone ? kFlagTombstone : 0));
  PutSigned(&out, e.sub);
  PutSigned(&out, e.create_revision);
  PutSigned(&out, e.version);
  PutSigned(&out, e.lease);
  return out;
}

std::optional<IndexEntry> DecodeIndexEntry(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  const auto flags = static_cast<uint8_t>(bytes.front());
  if ((flags & ~kFlagTombstone) != 0) return std::nullopt;
  bytes.remove_prefix(1);
  IndexEntry e;
  e.tombstone = (flags & kFlagTombstone) != 0;
  if (!TakeSigned(&bytes, &e.sub) || !TakeSigned(&bytes, &e.create_revision) ||
      !TakeSigned(&bytes, &e.version) || !TakeSigned(&bytes, &e.lease) || !bytes.empty()) {
    return std::nullopt;
  }
  return e;
}

std::string LatestKey(std::string_view user_key) {
  std::string out(kLatestPrefix);
  out.append(user_key);
  return out;
}

std::string_view UserKeyOfLatest(std::string_view latest_key) {
  SYNOD_ASSERT(latest_key.starts_with(kLatestPrefix), "not a latest-version key");
  return latest_key.substr(kLatestPrefix.size());
}

std::string EncodeLatestEntry(const LatestEntry& e) {
  SYNOD_ASSERT(!e.entry.tombstone, "a deleted key has no latest version");
  std::string out;
  PutSigned(&out, e.mod_revision);
  out.append(EncodeIndexEntry(e.entry));
  return out;
}

std::optional<LatestEntry> DecodeLatestEntry(std::string_view bytes) {
  LatestEntry e;
  if (!TakeSigned(&bytes, &e.mod_revision)) return std::nullopt;
  const auto entry = DecodeIndexEntry(bytes);
  if (!entry || entry->tombstone) return std::nullopt;
  e.entry = *entry;
  return e;
}

std::string EncodeApplyState(const ApplyState& s) {
  std::string out;
  PutBE64(&out, s.applied_index);
  PutBE64(&out, static_cast<uint64_t>(s.revision));
  return out;
}

std::optional<ApplyState> DecodeApplyState(std::string_view bytes) {
  if (bytes.size() != 16) return std::nullopt;
  return ApplyState{GetBE64(bytes), static_cast<int64_t>(GetBE64(bytes.substr(8)))};
}

std::string EncodeAlarms(const std::vector<Alarm>& alarms) {
  std::string out;
  for (const Alarm& a : alarms) {
    PutBE64(&out, a.member_id);
    PutBE64(&out, static_cast<uint32_t>(a.type));
  }
  return out;
}

std::optional<std::vector<Alarm>> DecodeAlarms(std::string_view bytes) {
  constexpr size_t kAlarmBytes = 16;
  if (bytes.size() % kAlarmBytes != 0) return std::nullopt;
  std::vector<Alarm> alarms;
  for (size_t at = 0; at < bytes.size(); at += kAlarmBytes) {
    const uint64_t type = GetBE64(bytes.substr(at + 8));
    if (type > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return std::nullopt;
    alarms.push_back(Alarm{GetBE64(bytes.substr(at)), static_cast<int32_t>(type)});
  }
  return alarms;
}

std::string RevisionKey(int64_t main, int64_t sub) {
  SYNOD_ASSERT(main >= 0 && sub >= 0, "negative revision in a revision key");
  std::string out(kRevisionPrefix);
  PutBE64(&out, static_cast<uint64_t>(main));
  PutBE64(&out, static_cast<uint64_t>(sub));
  return out;
}

std::optional<ParsedRevisionKey> ParseRevisionKey(std::string_view key) {
  if (!key.starts_with(kRevisionPrefix) || key.size() != kRevisionPrefix.size() + 16) {
    return std::nullopt;
  }
  key.remove_prefix(kRevisionPrefix.size());
  return ParsedRevisionKey{static_cast<int64_t>(GetBE64(key)),
                           static_cast<int64_t>(GetBE64(key.substr(8)))};
}

std::string EncodeRevisionRecord(const RevisionRecord& r) {
  std::string out;
  out.reserve(1 + 5 + r.key.size() + 30 + r.value.size());
  out.push_back(static_cast<char>(r.tombstone ? kFlagTombstone : 0));
  PutVarint(&out, r.key.size());
  out.append(r.key);
  PutSigned(&out, r.create_revision);
  PutSigned(&out, r.version);
  PutSigned(&out, r.lease);
  out.append(r.value);  // the rest of the record, so no length is needed
  return out;
}

std::optional<RevisionRecord> DecodeRevisionRecord(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  const auto flags = static_cast<uint8_t>(bytes.front());
  if ((flags & ~kFlagTombstone) != 0) return std::nullopt;
  bytes.remove_prefix(1);
  RevisionRecord r;
  r.tombstone = (flags & kFlagTombstone) != 0;
  const auto key_size = TakeVarint(&bytes);
  if (!key_size || *key_size > bytes.size()) return std::nullopt;
  r.key.assign(bytes.substr(0, *key_size));
  bytes.remove_prefix(*key_size);
  if (!TakeSigned(&bytes, &r.create_revision) || !TakeSigned(&bytes, &r.version) ||
      !TakeSigned(&bytes, &r.lease)) {
    return std::nullopt;
  }
  r.value.assign(bytes);
  return r;
}

std::string LeaseKey(int64_t id) {
  std::string out(kLeasePrefix);
  PutBE64(&out, static_cast<uint64_t>(id));
  return out;
}

std::optional<int64_t> ParseLeaseKey(std::string_view key) {
  if (!key.starts_with(kLeasePrefix) || key.size() != kLeasePrefix.size() + 8) {
    return std::nullopt;
  }
  return static_cast<int64_t>(GetBE64(key.substr(kLeasePrefix.size())));
}

std::string AttachPrefix(int64_t lease) {
  std::string out(kAttachPrefix);
  PutBE64(&out, static_cast<uint64_t>(lease));
  return out;
}

std::string AttachKey(int64_t lease, std::string_view user_key) {
  std::string out = AttachPrefix(lease);
  out.append(user_key);
  return out;
}

}  // namespace synod::mvcc::codec
