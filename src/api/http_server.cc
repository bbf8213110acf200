#include "api/http_server.h"

#include <asio.hpp>
#include <atomic>
#include <optional>
#include <thread>

#include "base/assert.h"

namespace synod::api {
namespace {

using asio::ip::tcp;

auto NoThrow(asio::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

void CheckCoroutineExit(std::exception_ptr e) {
  SYNOD_ASSERT(e == nullptr, "an http server coroutine threw");
}

// A descriptor-exhausted acceptor fails at once on every try; pausing keeps it from spinning.
constexpr std::chrono::milliseconds kAcceptErrorPause{100};
constexpr size_t kReadChunkBytes = 4096;

HttpResponse Plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

class HttpServer::Impl {
 public:
  explicit Impl(HttpServerOptions options) : options_(std::move(options)) {}
  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  const std::vector<std::string>& addresses() const { return addresses_; }
  HttpServerStats stats() const {
    HttpServerStats s;
    s.requests = requests_.load();
    s.bad_requests = bad_requests_.load();
    s.connections_refused = refused_.load();
    return s;
  }

 private:
  asio::awaitable<void> AcceptLoop(tcp::acceptor& acceptor);
  asio::awaitable<void> Serve(std::shared_ptr<tcp::socket> socket);
  std::optional<HttpResponse> Answer(const std::string& buffer, bool* bad);
  void Log(const std::string& text) {
    if (options_.log) options_.log(text);
  }

  const HttpServerOptions options_;
  asio::io_context io_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::string> addresses_;
  std::thread thread_;
  size_t connections_ = 0;  // loop thread only
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> bad_requests_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<bool> stopping_{false};
};

Status HttpServer::Impl::Start() {
  SYNOD_ASSERT(!options_.listen.empty(), "an http server listens somewhere");
  SYNOD_ASSERT(options_.connections_max > 0 && options_.request_bytes_max > 0, "limits > 0");
  for (const std::string& address : options_.listen) {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      return Status(ErrorCode::kInvalidArgument, "http listen address needs host:port: " + address);
    }
    std::string host = address.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    asio::error_code ec;
    tcp::resolver resolver(io_);
    const auto results =
        resolver.resolve(host, address.substr(colon + 1), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    "http listen address " + address + ": " + ec.message());
    }
    const tcp::endpoint endpoint = *results.begin();
    auto acceptor = std::make_unique<tcp::acceptor>(io_);
    auto fail = [&](const char* step) {
      return Status(ErrorCode::kIoError, std::string(step) + " " + address + ": " + ec.message());
    };
    if (acceptor->open(endpoint.protocol(), ec); ec) return fail("open");
    // A restarted member must get its port back while old connections linger in TIME_WAIT.
    if (acceptor->set_option(tcp::acceptor::reuse_address(true), ec); ec) return fail("reuse");
    if (acceptor->bind(endpoint, ec); ec) return fail("bind");
    if (acceptor->listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
    const uint16_t port = acceptor->local_endpoint(ec).port();
    if (ec) return fail("local endpoint of");
    addresses_.push_back(address.substr(0, colon) + ":" + std::to_string(port));
    acceptors_.push_back(std::move(acceptor));
  }
  work_.emplace(io_.get_executor());
  for (auto& acceptor : acceptors_) {
    asio::co_spawn(io_, AcceptLoop(*acceptor), CheckCoroutineExit);
  }
  thread_ = std::thread([this] { io_.run(); });
  return Status::Ok();
}

void HttpServer::Impl::Stop() {
  if (stopping_.exchange(true)) return;
  SYNOD_ASSERT(std::this_thread::get_id() != thread_.get_id(), "HttpServer::Stop from a handler");
  // Stopping the loop abandons every pending operation; their coroutine frames (and the
  // sockets in them) are destroyed with the io_context.
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

asio::awaitable<void> HttpServer::Impl::AcceptLoop(tcp::acceptor& acceptor) {
  for (;;) {
    auto socket = std::make_shared<tcp::socket>(io_);
    asio::error_code ec;
    co_await acceptor.async_accept(*socket, NoThrow(ec));
    if (!acceptor.is_open()) co_return;
    if (ec) {
      Log("accept: " + ec.message());
      asio::steady_timer pause(io_, kAcceptErrorPause);
      co_await pause.async_wait(NoThrow(ec));
      continue;
    }
    if (connections_ >= options_.connections_max) {
      ++refused_;
      socket->close(ec);
      continue;
    }
    ++connections_;
    asio::co_spawn(io_, Serve(std::move(socket)), CheckCoroutineExit);
  }
}

asio::awaitable<void> HttpServer::Impl::Serve(std::shared_ptr<tcp::socket> socket) {
  // The timer closes the socket, which ends the pending read. It holds its own reference, so it
  // may fire after this coroutine has finished.
  asio::steady_timer deadline(io_, options_.request_timeout);
  deadline.async_wait([socket](const asio::error_code& ec) {
    asio::error_code ignored;
    if (!ec) socket->close(ignored);
  });
  std::string buffer;
  std::optional<HttpResponse> response;
  bool bad = false;
  asio::error_code ec;
  char chunk[kReadChunkBytes];
  while (!response) {
    const size_t n = co_await socket->async_read_some(asio::buffer(chunk), NoThrow(ec));
    if (ec) break;  // hung up, or the deadline closed the socket: nobody to answer
    buffer.append(chunk, n);
    response = Answer(buffer, &bad);
  }
  if (response) {
    ++requests_;
    if (bad) ++bad_requests_;
    const std::string bytes = SerializeHttpResponse(*response);
    co_await asio::async_write(*socket, asio::buffer(bytes), NoThrow(ec));
    socket->shutdown(tcp::socket::shutdown_both, ec);
  }
  deadline.cancel();
  socket->close(ec);
  --connections_;
}

// The answer once `buffer` holds a whole request head or cannot become one; nullopt while
// the head is incomplete and within bounds.
std::optional<HttpResponse> HttpServer::Impl::Answer(const std::string& buffer, bool* bad) {
  const HttpParseResult parsed = ParseHttpRequest(buffer);
  switch (parsed.state) {
    case HttpParseState::kIncomplete:
      break;
    case HttpParseState::kBad:
      *bad = true;
      Log("http: bad request: " + parsed.error);
      return Plain(400, "bad request: " + parsed.error + "\n");
    case HttpParseState::kComplete: {
      const HttpRequest& req = parsed.request;
      const auto route = options_.routes.find(req.path);
      if (route == options_.routes.end()) return Plain(404, "not found\n");
      if (req.method != "GET") {
        HttpResponse r = Plain(405, "only GET is served\n");
        r.headers.emplace_back("Allow", "GET");
        return r;
      }
      return route->second(req);
    }
  }
  if (buffer.size() > options_.request_bytes_max) {
    *bad = true;
    return Plain(431,
                 "request head over " + std::to_string(options_.request_bytes_max) + " bytes\n");
  }
  return std::nullopt;
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  Status s = impl->Start();
  if (!s.ok()) return s;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() {
  Stop();
}
void HttpServer::Stop() {
  impl_->Stop();
}
const std::vector<std::string>& HttpServer::addresses() const {
  return impl_->addresses();
}
HttpServerStats HttpServer::stats() const {
  return impl_->stats();
}

}  // namespace synod::api
