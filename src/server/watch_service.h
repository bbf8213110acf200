// The etcd v3 Watch service on gRPC's callback API: one bidirectional stream per client
// connection carries many watchers, created and cancelled in-band. The streams are thin: the
// hub (watch_hub.h) holds the watchers and each stream's bounded queue of responses; a stream
// sends one response at a time, reads the next request only while its queue has room, and is
// woken by the hub's worker when responses arrive on an empty queue. No gRPC callback thread
// ever waits, and the node's loop thread never touches a stream.
#pragma once

#include <memory>

namespace grpc {
class Service;
}

namespace synod::server {

class ServingContext;
class WatchHub;

// Large revisions are split (for watchers that allow fragments) at --max-request-bytes.
std::unique_ptr<grpc::Service> NewWatchService(ServingContext* context, WatchHub* hub);

}  // namespace synod::server
