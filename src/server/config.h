// The server's configuration: etcd's flag names and defaults, so synod can stand in for etcd
// in existing scripts, plus --config-file (TOML with the same keys as the flags).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/log.h"

namespace synod::server {

struct ClusterMember {
  std::string name;
  std::vector<std::string> peer_urls;  // as given, e.g. "http://127.0.0.1:2380"
  uint64_t id = 0;                     // MemberIdFor(name, token)
};

enum class ClusterState { kNew, kExisting };

struct ServerConfig {
  std::string name = "default";
  std::string data_dir;  // default "<name>.etcd", as etcd
  std::vector<std::string> listen_client_urls{"http://localhost:2379"};
  std::vector<std::string> advertise_client_urls{"http://localhost:2379"};
  std::vector<std::string> listen_peer_urls{"http://localhost:2380"};
  std::vector<std::string> initial_advertise_peer_urls{"http://localhost:2380"};
  // HTTP for /metrics, /health, /readyz, /livez; none by default, as etcd.
  std::vector<std::string> listen_metrics_urls;
  std::vector<ClusterMember> initial_cluster;  // sorted by name
  ClusterState initial_cluster_state = ClusterState::kNew;
  std::string initial_cluster_token = "etcd-cluster";
  uint32_t heartbeat_interval_ms = 100;
  uint32_t election_timeout_ms = 1000;
  uint64_t snapshot_count = 100000;
  int64_t quota_backend_bytes = int64_t{2} << 30;  // etcd's default: 2 GiB
  int64_t max_request_bytes = 1536 * 1024;         // etcd's default: 1.5 MiB
  uint32_t max_txn_ops = 128;
  LogLevel log_level = LogLevel::kInfo;
  // The leader promotes a learner to voter once its log has caught up (off: etcd's behaviour,
  // an operator runs `member promote`).
  bool auto_promote_learners = false;

  uint64_t member_id = 0;
  uint64_t cluster_id = 0;
};

// What the command line asks for: a configuration to run, or a text to print and an exit
// code (--help, --version, a usage error).
struct FlagsOutcome {
  std::optional<ServerConfig> config;
  int exit_code = 0;
  std::string message;
};

FlagsOutcome ParseFlags(int argc, const char* const* argv);

// "name=url,name=url2,other=url3" -> members sorted by name, ids derived from `token`.
Result<std::vector<ClusterMember>> ParseInitialCluster(const std::string& text,
                                                       const std::string& token);

// "http://host:port" -> "host:port" (the form gRPC and the transport listen on). kInvalidArgument
// for https (no TLS yet), unix sockets, paths and missing ports.
Result<std::string> HostPortOfUrl(const std::string& url);

}  // namespace synod::server
