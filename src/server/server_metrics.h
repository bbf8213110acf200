// ServerMetrics: one member's observability. Owns the metrics registry (process, Raft, WAL,
// store and gRPC figures, in etcd's names where etcd has one) and the HTTP server of
// --listen-metrics-urls: /metrics (Prometheus text), /health (etcd's JSON), /readyz, /livez.
//
// Lifetime: created before the node (the WAL's fsync observer and the gRPC interceptor write
// into its registry) and destroyed after everything else; StopServing() comes first in the
// server's Stop, since the endpoints read the node and the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "metrics/registry.h"
#include "node/node.h"

namespace synod::api {
class HttpServer;
}  // namespace synod::api

namespace synod::server {

class KvMachine;

// A verdict of /health or /readyz.
struct Verdict {
  bool ok = false;
  std::string reason;  // why not, when !ok
};

// /health: etcd's "RAFT NO LEADER" when the member knows no leader. With check-quorum on (it
// always is), a leader that has not heard from a quorum for an election timeout steps down,
// and a follower that has not heard from its leader for one becomes a pre-candidate and forgets
// it; so a known leader means the group had a quorum's recent contact.
Verdict CheckHealth(const node::NodeInfo& info);
// /readyz: the member has applied up to the commit index it had at start (`caught_up` latches
// that) and knows a leader.
Verdict CheckReady(const node::NodeInfo& info, raft::LogIndex commit_at_start, bool* caught_up);
// {"health":"true"} or {"health":"false","reason":"..."}.
std::string HealthJson(const Verdict& v);

class ServerMetrics {
 public:
  explicit ServerMetrics(uint64_t member_id);
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  metrics::Registry& registry() { return registry_; }
  // For storage::WalWriterOptions::on_sync: each fsync's duration into
  // etcd_disk_wal_fsync_duration_seconds.
  std::function<void(std::chrono::nanoseconds)> WalSyncObserver();
  // Adds the metrics read from the node and the store at each scrape, and remembers the commit
  // index /readyz waits for. REQUIRES: called once; both outlive StopServing().
  void WatchNode(const node::Node* node, const KvMachine* kv);
  // One more JSON endpoint (e.g. /members of the gossip layer). REQUIRES: before Serve; `body`
  // outlives StopServing().
  void AddJsonRoute(std::string path, std::function<std::string()> body);

  // Serves the endpoints on every host:port (port 0 picks one). REQUIRES: WatchNode done.
  Status Serve(const std::vector<std::string>& host_ports);
  // Idempotent.
  void StopServing();
  // host:port actually listened on.
  std::vector<std::string> addresses() const;

 private:
  std::string MetricsText();
  Verdict Health();
  Verdict Ready();

  const uint64_t member_id_;
  metrics::Registry registry_;
  metrics::Histogram& wal_fsync_;
  metrics::Counter& health_success_;
  metrics::Counter& health_failures_;
  const node::Node* node_ = nullptr;
  const KvMachine* kv_ = nullptr;
  raft::LogIndex commit_at_start_;
  bool caught_up_ = false;  // the HTTP thread only
  std::unique_ptr<api::HttpServer> http_;
  std::vector<std::pair<std::string, std::function<std::string()>>> json_routes_;
};

}  // namespace synod::server
