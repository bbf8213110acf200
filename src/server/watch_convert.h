// Watch messages between the wire (etcdserverpb) and the hub (watch_hub.h), including etcd's
// fragmentation of large responses. Pure functions, no gRPC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "etcdserverpb/rpc.pb.h"
#include "server/watch_hub.h"

namespace synod::server {

WatchCreate FromProto(const etcdserverpb::WatchCreateRequest& r);

struct WatchHeaderFields {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t raft_term = 0;
};

// The wire responses for one hub response, in sending order. More than one only when the
// watcher accepts fragments, the response holds several events and reaches
// `fragment_bytes_max` (etcd uses --max-request-bytes): each piece then stays below it (unless
// one event alone is larger) and every piece but the last has `fragment` set, as etcd's
// clients expect to reassemble them.
std::vector<etcdserverpb::WatchResponse> ToWire(const WatchEvents& r,
                                                const WatchHeaderFields& header,
                                                size_t fragment_bytes_max);

}  // namespace synod::server
