// A single-member, in-memory etcd key space with etcd's revision rules, for wire tests only.
//
// Rules kept (etcd's MVCC model): the store starts at revision 1; every successful Put adds one
// revision; a key's create_revision is the revision that created it, mod_revision the revision
// of its latest Put, version counts Puts since creation (1 on creation). A Range at revision r
// sees each key as of r; the response header always carries the current revision.
// Not kept: deletes, leases, compaction, transactions (nothing here needs them).
//
// Thread safety: all methods take an internal mutex; gRPC calls them from several threads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/etcd_errors.h"
#include "etcdserverpb/rpc.pb.h"

namespace synod::testing {

struct MapKvOptions {
  uint64_t cluster_id = 0x5a17c1d5a17c1d5aULL;  // > 2^53: shows 64-bit ids survive JSON
  uint64_t member_id = 0x6d656d6265723031ULL;
  uint64_t raft_term = 1;
  int64_t request_bytes_max = 1536 * 1024;  // etcd's default --max-request-bytes
  int64_t versions_max = 100'000;           // every stored version of every key
};

class MapKv {
 public:
  explicit MapKv(MapKvOptions options = {}) : options_(options) {}

  // Each returns kOk (response filled) or the etcd error a real server would send.
  api::WireStatus Range(const etcdserverpb::RangeRequest& request,
                        etcdserverpb::RangeResponse* response) const;
  api::WireStatus Put(const etcdserverpb::PutRequest& request,
                      etcdserverpb::PutResponse* response);

  int64_t revision() const;

 private:
  using Versions = std::vector<mvccpb::KeyValue>;  // ascending mod_revision, never empty

  // REQUIRES: mu_ held.
  void FillHeader(etcdserverpb::ResponseHeader* header) const;
  // The newest version of `versions` at or before `revision`, or nullptr.
  static const mvccpb::KeyValue* VersionAt(const Versions& versions, int64_t revision);

  const MapKvOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Versions> keys_;  // guarded by mu_
  int64_t revision_ = 1;                  // guarded by mu_
  int64_t versions_stored_ = 0;           // guarded by mu_
};

}  // namespace synod::testing
