// Random requests for the randomized and crash tests, drawn from one seed: few keys (with zero
// and 0xff bytes, and keys that are prefixes of others) so that operations collide often, and
// revisions around the compaction and current revisions so that every error path is hit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "mvcc/types.h"

namespace synod::mvcc {

// Readable failure output for gtest.
void PrintTo(const KeyValue& kv, std::ostream* os);
void PrintTo(const Event& e, std::ostream* os);

namespace testing {

class OpGenerator {
 public:
  explicit OpGenerator(uint64_t seed) : rng_(seed) {}

  Random& rng() { return rng_; }

  // Any request a Raft entry can carry.
  WriteRequest Write(int64_t current, int64_t compacted);
  RangeRequest Range(int64_t current, int64_t compacted);
  TxnRequest Txn(int64_t current, int64_t compacted, int depth, bool read_only);
  EventsRequest Events(int64_t current, int64_t compacted);

 private:
  std::string Key();
  std::string RangeEnd(const std::string& key);
  int64_t Revision(int64_t current, int64_t compacted);
  int64_t LeaseId();
  PutRequest Put(bool valid_only);
  DeleteRangeRequest Delete();
  Compare MakeCompare(int64_t current);
  std::vector<RequestOp> Ops(int64_t current, int64_t compacted, int depth, bool read_only);

  Random rng_;
};

// Everything a client could observe of a store, for comparing two stores or a store and the
// model: every revision's live keys from the compaction on, all events, leases and their keys.
struct Observed {
  int64_t revision = 0;
  int64_t compacted = 0;
  std::vector<std::vector<KeyValue>> kvs_by_revision;
  std::vector<Event> events;
  std::vector<Lease> leases;
  std::vector<std::vector<std::string>> lease_keys;

  bool operator==(const Observed&) const = default;
};

// Works for the store and for the model (same read calls).
template <typename S>
Observed Observe(const S& s) {
  if constexpr (requires { s.CheckIntegrity(); }) {
    auto intact = s.CheckIntegrity();
    EXPECT_TRUE(intact.ok()) << intact.error().ToString();
  }
  Observed o;
  o.revision = s.revision();
  o.compacted = s.compact_revision();
  for (int64_t rev = std::max<int64_t>(1, o.compacted); rev <= o.revision; ++rev) {
    RangeRequest all;
    all.key = std::string(1, '\0');
    all.range_end = std::string(1, '\0');
    all.revision = rev;
    auto r = s.Range(all);
    SYNOD_ASSERT(r.ok(), "Observe: range failed");
    o.kvs_by_revision.push_back(r.value().result.kvs);
  }
  EventsRequest ev;
  ev.start_revision = std::max<int64_t>(1, o.compacted);
  ev.prev_kv = true;
  ev.events_max = 1u << 30;
  auto events = s.ReadEvents(ev);
  SYNOD_ASSERT(events.ok(), "Observe: events failed");
  o.events = events.value().events;
  auto leases = s.Leases();
  SYNOD_ASSERT(leases.ok(), "Observe: leases failed");
  for (const Lease& l : leases.value()) {
    o.leases.push_back(l);
    auto keys = s.LeaseKeys(l.id);
    SYNOD_ASSERT(keys.ok(), "Observe: lease keys failed");
    o.lease_keys.push_back(keys.value());
  }
  return o;
}

}  // namespace testing
}  // namespace synod::mvcc
