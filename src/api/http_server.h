// HttpServer: a small HTTP/1.1 server for the metrics and health endpoints, on its own thread
// (asio lives only in http_server.cc). One request per connection: read a request head, call
// the handler of its path, write the answer, close. Everything is bounded: connections
// (`connections_max`; above it a new connection is closed at once), the request head
// (`request_bytes_max`; above it 431), and the time to send it (`request_timeout`).
// Malformed requests get 400, methods other than GET 405, unknown paths 404; the connection
// is closed in every case, and the server goes on serving.
//
// Handlers run on the server's thread, one at a time: they must be quick (render a registry,
// read an atomic) and must not wait on anything that waits on the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_request.h"
#include "base/status.h"

namespace synod::api {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::vector<std::string> listen;            // host:port each; port 0 picks a free one
  std::map<std::string, HttpHandler> routes;  // exact path -> handler
  size_t connections_max = 64;
  size_t request_bytes_max = 8 * 1024;
  std::chrono::milliseconds request_timeout{5000};
  std::function<void(std::string_view)> log;  // optional
};

struct HttpServerStats {
  uint64_t requests = 0;  // answered, whatever the status
  uint64_t bad_requests = 0;
  uint64_t connections_refused = 0;  // closed at once: connections_max reached
};

class HttpServer {
 public:
  // kInvalidArgument for an address that does not resolve, kIoError when one cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Closes the listeners and every connection, joins the thread. Idempotent; not from a handler.
  void Stop();
  // host:port actually listened on, in `listen` order.
  const std::vector<std::string>& addresses() const;
  HttpServerStats stats() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synod::api
