#include "random_ops.h"

#include <iomanip>

namespace synod::mvcc {
namespace {

void PrintBytes(const std::string& s, std::ostream* os) {
  *os << '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      *os << c;
    } else {
      *os << "\\x" << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(u)
          << std::dec;
    }
  }
  *os << '"';
}

}  // namespace

void PrintTo(const KeyValue& kv, std::ostream* os) {
  PrintBytes(kv.key, os);
  *os << "{c=" << kv.create_revision << " m=" << kv.mod_revision << " v=" << kv.version
      << " l=" << kv.lease << " val=";
  PrintBytes(kv.value, os);
  *os << "}";
}

void PrintTo(const Event& e, std::ostream* os) {
  *os << (e.type == EventType::kPut ? "PUT " : "DEL ");
  PrintTo(e.kv, os);
  if (e.prev_kv) {
    *os << " prev=";
    PrintTo(*e.prev_kv, os);
  }
}

namespace testing {

std::string OpGenerator::Key() {
  static const std::string kKeys[] = {
      "a", std::string("a\0", 2), "ab", "abc", "b", "b\xff", "c", "d", "\xff", "\xff\xff",
  };
  return kKeys[rng_.Uniform(std::size(kKeys))];
}

std::string OpGenerator::RangeEnd(const std::string& key) {
  switch (rng_.Uniform(5)) {
    case 0: return "";
    case 1: return PrefixEnd(key);
    case 2: return std::string(1, '\0');
    default: return Key();  // sometimes below the key: an empty range
  }
}

int64_t OpGenerator::Revision(int64_t current, int64_t compacted) {
  if (rng_.Chance(0.5)) return 0;
  const int64_t lo = std::max<int64_t>(1, compacted - 1);
  return static_cast<int64_t>(rng_.Between(static_cast<uint64_t>(lo),
                                           static_cast<uint64_t>(current + 1)));
}

int64_t OpGenerator::LeaseId() { return static_cast<int64_t>(rng_.Between(1, 3)); }

PutRequest OpGenerator::Put(bool valid_only) {
  PutRequest p;
  p.key = Key();
  p.value = rng_.Chance(0.1) ? "" : "v" + std::to_string(rng_.Uniform(50));
  if (rng_.Chance(0.3)) p.lease = LeaseId();
  p.prev_kv = rng_.Chance(0.5);
  if (rng_.Chance(0.1)) {
    p.ignore_value = true;
    if (valid_only || rng_.Chance(0.7)) p.value.clear();
  }
  if (rng_.Chance(0.1)) {
    p.ignore_lease = true;
    if (valid_only || rng_.Chance(0.7)) p.lease = kNoLease;
  }
  if (!valid_only && rng_.Chance(0.02)) p.key.clear();
  return p;
}

DeleteRangeRequest OpGenerator::Delete() {
  DeleteRangeRequest d;
  d.key = Key();
  d.range_end = RangeEnd(d.key);
  d.prev_kv = rng_.Chance(0.5);
  return d;
}

RangeRequest OpGenerator::Range(int64_t current, int64_t compacted) {
  RangeRequest r;
  r.key = rng_.Chance(0.1) ? std::string(1, '\0') : Key();
  r.range_end = RangeEnd(r.key);
  r.revision = Revision(current, compacted);
  if (rng_.Chance(0.3)) r.limit = static_cast<int64_t>(rng_.Between(1, 4));
  if (rng_.Chance(0.4)) {
    r.sort_order = static_cast<SortOrder>(rng_.Uniform(3));
    r.sort_target = static_cast<SortTarget>(rng_.Uniform(5));
  }
  r.keys_only = rng_.Chance(0.1);
  r.count_only = rng_.Chance(0.1);
  auto bound = [&]() { return rng_.Chance(0.85) ? 0 : Revision(current, compacted); };
  r.min_mod_revision = bound();
  r.max_mod_revision = bound();
  r.min_create_revision = bound();
  r.max_create_revision = bound();
  return r;
}

Compare OpGenerator::MakeCompare(int64_t current) {
  Compare c;
  c.key = Key();
  if (rng_.Chance(0.2)) c.range_end = RangeEnd(c.key);
  c.target = static_cast<CompareTarget>(rng_.Uniform(5));
  c.result = static_cast<CompareResult>(rng_.Uniform(4));
  const auto number = static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(current) + 2));
  c.version = c.create_revision = c.mod_revision = number;
  c.lease = static_cast<int64_t>(rng_.Uniform(4));
  c.value = "v" + std::to_string(rng_.Uniform(50));
  return c;
}

std::vector<RequestOp> OpGenerator::Ops(int64_t current, int64_t compacted, int depth,
                                        bool read_only) {
  std::vector<RequestOp> ops;
  const uint64_t n = rng_.Uniform(4);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t kind = rng_.Uniform(read_only ? 2 : 4);
    if (kind == 0) {
      ops.push_back(RequestOp{Range(current, compacted)});
    } else if (kind == 1) {
      if (depth > 0) ops.push_back(RequestOp{Txn(current, compacted, depth - 1, read_only)});
    } else if (kind == 2) {
      ops.push_back(RequestOp{Put(/*valid_only=*/true)});
    } else {
      ops.push_back(RequestOp{Delete()});
    }
  }
  return ops;
}

TxnRequest OpGenerator::Txn(int64_t current, int64_t compacted, int depth, bool read_only) {
  TxnRequest t;
  const uint64_t compares = rng_.Uniform(3);
  for (uint64_t i = 0; i < compares; ++i) t.compare.push_back(MakeCompare(current));
  t.success = Ops(current, compacted, depth, read_only);
  t.failure = Ops(current, compacted, depth, read_only);
  return t;
}

EventsRequest OpGenerator::Events(int64_t current, int64_t compacted) {
  EventsRequest e;
  e.start_revision = static_cast<int64_t>(
      rng_.Between(static_cast<uint64_t>(std::max<int64_t>(1, compacted - 1)),
                   static_cast<uint64_t>(current + 1)));
  e.end_revision = rng_.Chance(0.5) ? 0 : e.start_revision + static_cast<int64_t>(rng_.Uniform(5));
  if (rng_.Chance(0.5)) {
    e.key = Key();
    e.range_end = RangeEnd(e.key);
  }
  e.prev_kv = rng_.Chance(0.5);
  e.events_max = rng_.Between(1, 8);
  return e;
}

WriteRequest OpGenerator::Write(int64_t current, int64_t compacted) {
  const uint64_t roll = rng_.Uniform(100);
  if (roll < 40) return Put(/*valid_only=*/false);
  if (roll < 55) return Delete();
  if (roll < 80) return Txn(current, compacted, /*depth=*/2, /*read_only=*/false);
  if (roll < 85) {
    CompactRequest c;
    c.revision = static_cast<int64_t>(
        rng_.Between(static_cast<uint64_t>(std::max<int64_t>(0, compacted - 1)),
                     static_cast<uint64_t>(current + 1)));
    return c;
  }
  if (roll < 93) {
    LeaseGrantRequest g;
    g.id = LeaseId();
    g.ttl_seconds = static_cast<int64_t>(rng_.Between(5, 60));
    return g;
  }
  LeaseRevokeRequest r;
  r.id = LeaseId();
  return r;
}

}  // namespace testing
}  // namespace synod::mvcc
