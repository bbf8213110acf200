// Server: one synod member. Opens the key space (data-dir/kv) and the Raft node (data-dir/wal),
// connects to the other members over the peer transport, and serves the etcd v3 API on the
// client URLs. Everything it starts runs on its own threads; the caller only starts and stops.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/config.h"

namespace synod::server {

class Server {
 public:
  // Refuses to start on a damaged WAL or store, on an address it cannot listen on, and (for
  // now) on --initial-cluster-state=existing without a data dir from an earlier run.
  static Result<std::unique_ptr<Server>> Start(const ServerConfig& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Answers requests in flight ("server stopped" if they cannot finish), then closes
  // everything in order: node, client API, workers, peers, store. Idempotent.
  void Stop();

  // The client addresses actually listened on (host:port), in --listen-client-urls order.
  const std::vector<std::string>& client_addresses() const;

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synod::server
