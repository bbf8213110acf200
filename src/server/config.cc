#include "server/config.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <map>
#include <sstream>

#include "server/member_id.h"
#include "server/version.h"

namespace synod::server {
namespace {

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

// Checks that need several flags at once, and derives the ids.
Status Finish(ServerConfig* c, const std::string& initial_cluster, const std::string& state) {
  if (c->name.empty()) return Invalid("--name must not be empty");
  if (c->data_dir.empty()) c->data_dir = c->name + ".etcd";
  if (c->heartbeat_interval_ms == 0) return Invalid("--heartbeat-interval must be > 0");
  // As etcd: an election timeout of only a few heartbeats makes spurious elections likely.
  if (c->election_timeout_ms < 5 * c->heartbeat_interval_ms) {
    return Invalid("--election-timeout must be at least 5 times --heartbeat-interval");
  }
  if (c->max_request_bytes <= 0 || c->max_request_bytes > (int64_t{1} << 30)) {
    return Invalid("--max-request-bytes must be in (0, 1 GiB]");
  }
  if (c->snapshot_count == 0) return Invalid("--snapshot-count must be > 0");
  c->initial_cluster_state = state == "existing" ? ClusterState::kExisting : ClusterState::kNew;
  auto members = ParseInitialCluster(initial_cluster, c->initial_cluster_token);
  if (!members.ok()) return members.status();
  c->initial_cluster = std::move(members.value());
  const auto self = std::find_if(c->initial_cluster.begin(), c->initial_cluster.end(),
                                 [&](const ClusterMember& m) { return m.name == c->name; });
  if (self == c->initial_cluster.end()) {
    return Invalid("--initial-cluster has no member named '" + c->name + "' (--name)");
  }
  for (const std::string& url : c->initial_advertise_peer_urls) {
    if (std::find(self->peer_urls.begin(), self->peer_urls.end(), url) == self->peer_urls.end()) {
      return Invalid("--initial-advertise-peer-urls has " + url + " but --initial-cluster has " +
                     "no such url for '" + c->name + "'");
    }
  }
  for (const auto* urls : {&c->listen_client_urls, &c->listen_peer_urls,
                           &c->advertise_client_urls, &c->initial_advertise_peer_urls}) {
    if (urls->empty()) return Invalid("a url flag is empty");
    for (const std::string& url : *urls) {
      auto hp = HostPortOfUrl(url);
      if (!hp.ok()) return hp.status();
    }
  }
  for (const std::string& url : c->listen_metrics_urls) {
    auto hp = HostPortOfUrl(url);
    if (!hp.ok()) return Invalid("--listen-metrics-urls: " + hp.status().message());
  }
  if (c->initial_cluster_state == ClusterState::kExisting) {
    // A member added with Cluster.MemberAdd, which named it by its peer URLs.
    self->id = MemberIdForPeerUrls(c->initial_advertise_peer_urls, c->initial_cluster_token);
  }
  c->member_id = self->id;
  std::vector<uint64_t> ids;
  for (const ClusterMember& m : c->initial_cluster) {
    // A joining member names the cluster's members and itself; the founders' id set is the
    // others' when the cluster grows from its founders (the id is not replicated yet).
    if (c->initial_cluster_state == ClusterState::kExisting && m.id == c->member_id) continue;
    ids.push_back(m.id);
  }
  c->cluster_id = ClusterIdFor(c->initial_cluster_token, ids);
  return Status::Ok();
}

}  // namespace

Result<std::string> HostPortOfUrl(const std::string& url) {
  constexpr std::string_view kHttp = "http://";
  if (url.starts_with("https://")) return Invalid("TLS is not supported yet: " + url);
  if (!url.starts_with(kHttp)) return Invalid("url must start with http://: " + url);
  std::string rest = url.substr(kHttp.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return Invalid("url must not have a path: " + url);
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size() ||
      rest.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return Invalid("url needs a numeric port: " + url);
  }
  const unsigned long port = std::stoul(rest.substr(colon + 1));
  if (port > 65535) return Invalid("port out of range: " + url);
  return rest;
}

Result<std::vector<ClusterMember>> ParseInitialCluster(const std::string& text,
                                                       const std::string& token) {
  std::map<std::string, ClusterMember> by_name;
  for (const std::string& part : SplitComma(text)) {
    const size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == part.size()) {
      return Invalid("--initial-cluster entry must be name=url: '" + part + "'");
    }
    const std::string name = part.substr(0, eq);
    const std::string url = part.substr(eq + 1);
    auto hp = HostPortOfUrl(url);
    if (!hp.ok()) return hp.status();
    ClusterMember& m = by_name[name];
    m.name = name;
    m.peer_urls.push_back(url);
    m.id = MemberIdFor(name, token);
  }
  std::vector<ClusterMember> members;
  std::map<uint64_t, std::string> ids;
  for (auto& [name, m] : by_name) {
    auto [it, fresh] = ids.emplace(m.id, name);
    if (!fresh) return Invalid("members '" + it->second + "' and '" + name + "' share an id");
    members.push_back(std::move(m));
  }
  return members;
}

FlagsOutcome ParseFlags(int argc, const char* const* argv) {
  ServerConfig c;
  std::string initial_cluster = "default=http://localhost:2380";
  std::string state = "new";
  std::string log_level = "info";
  CLI::App app{"synod: a distributed key-value database serving the etcd v3 API.\n"
               "Flags follow etcd's; URLs are http://host:port (TLS is not supported yet).",
               "synod"};
  app.option_defaults()->always_capture_default();
  app.set_config("--config-file", "",
                 "TOML file with the same keys as the flags (data-dir = \"/var/lib/synod\"); "
                 "flags given on the command line win");
  app.set_version_flag("--version", std::string("synod ") + kVersion);
  app.add_option("--name", c.name, "Human-readable name of this member");
  app.add_option("--data-dir", c.data_dir, "Where the WAL (wal/) and the key space (kv/) live "
                 "(default <name>.etcd)");
  app.add_option("--listen-client-urls", c.listen_client_urls,
                 "URLs to serve clients (the etcd v3 gRPC API) on")->delimiter(',');
  app.add_option("--advertise-client-urls", c.advertise_client_urls,
                 "This member's client URLs as told to clients")->delimiter(',');
  app.add_option("--listen-peer-urls", c.listen_peer_urls,
                 "URLs to take Raft traffic from other members on (the first is used)")
      ->delimiter(',');
  app.add_option("--initial-advertise-peer-urls", c.initial_advertise_peer_urls,
                 "This member's peer URLs as the other members reach it")->delimiter(',');
  app.add_option("--listen-metrics-urls", c.listen_metrics_urls,
                 "URLs to serve HTTP on: /metrics (Prometheus), /health, /readyz, /livez "
                 "(comma-separated or repeated; none by default)")
      ->delimiter(',');
  app.add_option("--initial-cluster", initial_cluster,
                 "Every member of a new cluster: name=peer-url,... (same on every member)");
  app.add_option("--initial-cluster-state", state,
                 "new: bootstrap a new cluster; existing: join a running one after "
                 "Cluster.MemberAdd (etcdctl member add) announced this member's peer URLs")
      ->check(CLI::IsMember({"new", "existing"}));
  app.add_option("--initial-cluster-token", c.initial_cluster_token,
                 "Names the cluster; member and cluster ids are derived from it");
  app.add_option("--heartbeat-interval", c.heartbeat_interval_ms,
                 "Milliseconds between leader heartbeats (one Raft tick)");
  app.add_option("--election-timeout", c.election_timeout_ms,
                 "Milliseconds without a leader before a member stands for election");
  app.add_option("--snapshot-count", c.snapshot_count,
                 "Applied entries between two snapshots of the state machine");
  app.add_option("--quota-backend-bytes", c.quota_backend_bytes,
                 "Size of the key space's storage above which writes fail with "
                 "'database space exceeded'");
  app.add_option("--max-request-bytes", c.max_request_bytes,
                 "Largest client request accepted, in bytes");
  app.add_option("--max-txn-ops", c.max_txn_ops, "Most operations in one transaction");
  app.add_flag("--auto-promote-learners", c.auto_promote_learners,
               "The leader promotes a learner to voter once it has caught up with the log "
               "(etcd leaves that to `member promote`)");
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  FlagsOutcome out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream o, err;
    out.exit_code = app.exit(e, o, err);
    out.message = o.str() + err.str();
    return out;
  }
  const bool level_known = ParseLogLevel(log_level, &c.log_level);
  SYNOD_ASSERT(level_known, "checked by CLI::IsMember");
  Status s = Finish(&c, initial_cluster, state);
  if (!s.ok()) {
    out.exit_code = 2;
    out.message = "synod: " + s.message() + "\n";
    return out;
  }
  out.config = std::move(c);
  return out;
}

}  // namespace synod::server
