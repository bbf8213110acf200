// A reference model of the key space for the randomized tests: the etcd v3 semantics written
// as plainly as possible, with every version of every key in memory and no encoding, index or
// batching. It shares only the request/result types with the store, so a bug in the store's
// layout, scans or compaction shows up as a disagreement.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mvcc/error.h"
#include "mvcc/types.h"

namespace synod::mvcc::testing {

class Model {
 public:
  explicit Model(size_t txn_ops_max = 128) : txn_ops_max_(txn_ops_max) {}

  Outcome<ApplyResult> Apply(const WriteRequest& request);
  Outcome<RangeResponse> Range(const RangeRequest& request) const;
  Outcome<TxnResponse> ReadTxn(const TxnRequest& request) const;
  Outcome<EventsResult> ReadEvents(const EventsRequest& request) const;
  Outcome<std::vector<Lease>> Leases() const;
  Outcome<std::vector<std::string>> LeaseKeys(int64_t id) const;

  int64_t revision() const { return state_.revision; }
  int64_t compact_revision() const { return state_.compacted; }

 private:
  struct Version {
    int64_t revision = 0;
    bool deleted = false;
    KeyValue kv;
  };
  struct State {
    std::map<std::string, std::vector<Version>> history;  // per key, oldest first
    std::vector<Event> log;                               // every event, in order
    std::map<int64_t, int64_t> leases;                    // id -> ttl
    int64_t revision = 1;
    int64_t compacted = 0;
  };
  // One request being applied: the state it works on, and whether it wrote.
  struct Work {
    State state;
    int64_t base = 0;  // the revision before the request
    bool changed = false;
    bool read_only = false;
    int64_t write_revision() const { return base + 1; }
  };

  static const Version* Visible(const State& s, const std::string& key, int64_t revision);
  static std::vector<KeyValue> LiveIn(const State& s, const std::string& key,
                                      const std::string& end, int64_t revision);
  static Outcome<RangeResult> DoRange(const Work& w, const RangeRequest& r);
  static Outcome<PutResult> DoPut(Work& w, const PutRequest& p);
  static Outcome<DeleteRangeResult> DoDelete(Work& w, const DeleteRangeRequest& d);
  static Outcome<TxnResult> DoTxn(Work& w, const TxnRequest& t);
  static bool Holds(const Work& w, const Compare& c);
  static std::vector<std::string> LeaseKeysIn(const State& s, int64_t id);
  static void Record(Work& w, const std::string& key, bool deleted, const KeyValue& kv);
  Outcome<ApplyResult> ApplyCompact(const CompactRequest& c);
  std::optional<Errc> Validate(const TxnRequest& t) const;

  size_t txn_ops_max_;
  State state_;
};

}  // namespace synod::mvcc::testing
