#include "server/server_metrics.h"

#include <cstdio>

#include "api/http_server.h"
#include "metrics/process.h"
#include "server/kv_machine.h"
#include "server/log.h"
#include "server/version.h"

namespace synod::server {
namespace {

// etcd's buckets for WAL fsyncs: 1 ms to about 8 s.
std::vector<double> WalFsyncBuckets() {
  return metrics::ExponentialBuckets(0.001, 2, 14);
}

api::HttpResponse Text(int status, std::string body) {
  api::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

Verdict CheckHealth(const node::NodeInfo& info) {
  if (info.leader == raft::kNoNode) return Verdict{false, "RAFT NO LEADER"};
  return Verdict{true, ""};
}

Verdict CheckReady(const node::NodeInfo& info, raft::LogIndex commit_at_start, bool* caught_up) {
  if (!*caught_up && info.applied >= commit_at_start) *caught_up = true;
  if (!*caught_up) {
    return Verdict{false, "applying the log: applied " + std::to_string(info.applied.value) +
                              " of " + std::to_string(commit_at_start.value)};
  }
  if (info.leader == raft::kNoNode) return Verdict{false, "no leader"};
  return Verdict{true, ""};
}

std::string HealthJson(const Verdict& v) {
  if (v.ok) return "{\"health\":\"true\"}";
  return "{\"health\":\"false\",\"reason\":\"" + JsonEscape(v.reason) + "\"}";
}

ServerMetrics::ServerMetrics(uint64_t member_id)
    : member_id_(member_id),
      wal_fsync_(registry_
                     .AddHistogram("etcd_disk_wal_fsync_duration_seconds",
                                   "The latency distributions of fsync called by WAL.",
                                   WalFsyncBuckets())
                     .Get()),
      health_success_(registry_
                          .AddCounter("etcd_server_health_success",
                                      "The total number of successful health checks")
                          .Get()),
      health_failures_(
          registry_
              .AddCounter("etcd_server_health_failures", "The total number of failed health checks")
              .Get()) {
  metrics::AddProcessMetrics(&registry_);
  char id[17];
  std::snprintf(id, sizeof(id), "%llx", static_cast<unsigned long long>(member_id_));
  registry_.AddGaugeCallback("etcd_server_id",
                             "Server or member ID in hexadecimal format. 1 "
                             "for 'server_id' label with current ID.",
                             [] { return 1.0; }, {{"server_id", id}});
  registry_.AddGaugeCallback("etcd_server_version",
                             "Which version is running. 1 for "
                             "'server_version' label with current version.",
                             [] { return 1.0; }, {{"server_version", kVersion}});
}

ServerMetrics::~ServerMetrics() {
  StopServing();
}

std::function<void(std::chrono::nanoseconds)> ServerMetrics::WalSyncObserver() {
  return [h = &wal_fsync_](std::chrono::nanoseconds d) {
    h->Observe(std::chrono::duration<double>(d).count());
  };
}

void ServerMetrics::WatchNode(const node::Node* node, const KvMachine* kv) {
  SYNOD_ASSERT(node_ == nullptr && node != nullptr && kv != nullptr, "WatchNode once");
  node_ = node;
  kv_ = kv;
  commit_at_start_ = node->Info().commit;
  metrics::Registry& r = registry_;
  auto gauge = [&](const char* name, const char* help, auto read) {
    r.AddGaugeCallback(name, help,
                       [node, read] { return static_cast<double>(read(node->Info())); });
  };
  using Info = node::NodeInfo;
  gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.",
        [](const Info& i) { return i.leader != raft::kNoNode ? 1 : 0; });
  gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
        [](const Info& i) { return i.role == raft::Role::kLeader ? 1 : 0; });
  r.AddCounterCallback("etcd_server_leader_changes_seen_total",
                       "The number of leader changes seen.",
                       [node] { return static_cast<double>(node->Info().leader_changes); });
  // etcd exports these two as gauges holding the indexes, despite the _total.
  gauge("etcd_server_proposals_committed_total",
        "The total number of consensus proposals "
        "committed.",
        [](const Info& i) { return i.commit.value; });
  gauge("etcd_server_proposals_applied_total",
        "The total number of consensus proposals "
        "applied.",
        [](const Info& i) { return i.applied.value; });
  r.AddCounterCallback("etcd_server_proposals_failed_total",
                       "The total number of failed proposals seen.",
                       [node] { return static_cast<double>(node->Info().proposals_failed); });
  r.AddCounterCallback("synod_server_proposals_done_total",
                       "Proposals of this member applied and answered.",
                       [node] { return static_cast<double>(node->Info().proposals_committed); });
  gauge("synod_raft_term", "The member's current Raft term.",
        [](const Info& i) { return i.term.value; });
  gauge("synod_raft_leader_id", "The leader's member id as this member knows it (0: none).",
        [](const Info& i) { return i.leader.value; });
  gauge("synod_raft_commit_index", "The highest log index known committed.",
        [](const Info& i) { return i.commit.value; });
  gauge("synod_raft_applied_index", "The highest log index applied to the key space.",
        [](const Info& i) { return i.applied.value; });
  gauge("synod_raft_last_index", "The last index in the member's log.",
        [](const Info& i) { return i.last_index.value; });
  gauge("synod_raft_snapshot_index", "The index of the latest snapshot (log compacted below).",
        [](const Info& i) { return i.snapshot_index.value; });
  r.AddCounterCallback("synod_raft_readies_total", "Ready batches the node has processed.",
                       [node] { return static_cast<double>(node->Info().readies); });
  r.AddGaugeCallback("etcd_mvcc_db_total_size_in_bytes",
                     "Total size of the underlying database physically allocated in bytes.",
                     [kv] { return static_cast<double>(kv->DiskBytes()); });
}

std::string ServerMetrics::MetricsText() {
  return registry_.Render();
}

Verdict ServerMetrics::Health() {
  Verdict v = CheckHealth(node_->Info());
  (v.ok ? health_success_ : health_failures_).Inc();
  return v;
}

Verdict ServerMetrics::Ready() {
  return CheckReady(node_->Info(), commit_at_start_, &caught_up_);
}

Status ServerMetrics::Serve(const std::vector<std::string>& host_ports) {
  SYNOD_ASSERT(node_ != nullptr, "WatchNode before Serve");
  SYNOD_ASSERT(http_ == nullptr, "Serve once");
  api::HttpServerOptions o;
  o.listen = host_ports;
  o.log = [](std::string_view m) { Log(LogLevel::kDebug, "http", m); };
  o.routes["/metrics"] = [this](const api::HttpRequest&) {
    api::HttpResponse r = Text(200, MetricsText());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  };
  o.routes["/health"] = [this](const api::HttpRequest&) {
    const Verdict v = Health();
    api::HttpResponse r = Text(v.ok ? 200 : 503, HealthJson(v));
    r.content_type = "application/json";
    return r;
  };
  o.routes["/readyz"] = [this](const api::HttpRequest&) {
    const Verdict v = Ready();
    return v.ok ? Text(200, "ok\n") : Text(503, "not ready: " + v.reason + "\n");
  };
  // The process answers: its HTTP thread runs. Nothing else is checked, so a probe restarts
  // synod only when it hangs as a whole, never for a cluster-wide condition.
  o.routes["/livez"] = [](const api::HttpRequest&) { return Text(200, "ok\n"); };
  for (const auto& [path, body] : json_routes_) {
    o.routes[path] = [read = body](const api::HttpRequest&) {
      api::HttpResponse r = Text(200, read());
      r.content_type = "application/json";
      return r;
    };
  }
  auto http = api::HttpServer::Start(std::move(o));
  if (!http.ok()) return http.status();
  http_ = std::move(http.value());
  for (const std::string& a : http_->addresses()) {
    Log(LogLevel::kInfo, "server", "serving metrics and health on http://" + a);
  }
  return Status::Ok();
}

void ServerMetrics::AddJsonRoute(std::string path, std::function<std::string()> body) {
  SYNOD_ASSERT(http_ == nullptr, "AddJsonRoute before Serve");
  json_routes_.emplace_back(std::move(path), std::move(body));
}

void ServerMetrics::StopServing() {
  if (http_ != nullptr) http_->Stop();
}

std::vector<std::string> ServerMetrics::addresses() const {
  return http_ != nullptr ? http_->addresses() : std::vector<std::string>{};
}

}  // namespace synod::server
