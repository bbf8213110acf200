// HTTP request parsing on fixed bytes, and the HTTP server over real sockets on 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "api/grpc_metrics.h"
#include "api/http_request.h"
#include "api/http_server.h"

namespace synod::api {
namespace {

TEST(HttpParse, CompleteGet) {
  const auto r = ParseHttpRequest(
      "GET /metrics?name[]=x HTTP/1.1\r\nHost: 127.0.0.1:9\r\nAccept:  text/plain \r\n\r\n");
  ASSERT_EQ(r.state, HttpParseState::kComplete) << r.error;
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.target, "/metrics?name[]=x");
  EXPECT_EQ(r.request.path, "/metrics");
  EXPECT_EQ(r.request.version, "HTTP/1.1");
  ASSERT_EQ(r.request.headers.size(), 2u);
  EXPECT_EQ(r.request.Header("accept"), "text/plain");
  EXPECT_EQ(r.request.Header("HOST"), "127.0.0.1:9");
  EXPECT_EQ(r.request.Header("missing"), "");
}

TEST(HttpParse, Http10NeedsNoHost) {
  const auto r = ParseHttpRequest("GET /health HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.state, HttpParseState::kComplete) << r.error;
  EXPECT_EQ(r.request.path, "/health");
}

TEST(HttpParse, IncompleteUntilTheBlankLine) {
  const std::string full = "GET /livez HTTP/1.1\r\nHost: h\r\n\r\n";
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(ParseHttpRequest(full.substr(0, n)).state, HttpParseState::kIncomplete) << n;
  }
  EXPECT_EQ(ParseHttpRequest(full).state, HttpParseState::kComplete);
}

TEST(HttpParse, BadRequests) {
  const char* bad[] = {
      "GET /x HTTP/1.1\r\n\r\n",                                  // 1.1 without Host
      "GET /x HTTP/2.0\r\nHost: h\r\n\r\n",                       // version
      "GET x HTTP/1.1\r\nHost: h\r\n\r\n",                        // not origin form
      "GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",               // absolute form: not served
      "GET  /x HTTP/1.1\r\nHost: h\r\n\r\n",                      // two spaces
      "GET /x HTTP/1.1 extra\r\nHost: h\r\n\r\n",                 // four parts
      "GET /x HTTP/1.1\r\nHost : h\r\n\r\n",                      // space before colon
      "GET /x HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",            // obs-fold
      "GET /x HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",            // not a field
      "GET /x HTTP/1.1\r\nHost: h\x01\r\n\r\n",                   // control byte in a value
      "GET /x HTTP/1.1\r\nHost: h\nX: y\r\n\r\n",                 // bare LF
      "GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",  // a body
      "GET /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",  // a body
      "G(T /x HTTP/1.1\r\nHost: h\r\n\r\n",                                // method not a token
  };
  for (const char* b : bad) {
    EXPECT_EQ(ParseHttpRequest(b).state, HttpParseState::kBad) << b;
  }
}

TEST(HttpParse, GarbageIsBadBeforeAnyLineEnds) {
  // A TLS ClientHello, an HTTP/2 preface's binary tail, a leading space, a NUL.
  EXPECT_EQ(ParseHttpRequest(std::string("\x16\x03\x01\x02\x00", 5)).state, HttpParseState::kBad);
  EXPECT_EQ(ParseHttpRequest(" GET").state, HttpParseState::kBad);
  EXPECT_EQ(ParseHttpRequest(std::string("GET /\0", 6)).state, HttpParseState::kBad);
  EXPECT_EQ(ParseHttpRequest("GE").state, HttpParseState::kIncomplete);
}

TEST(HttpResponse, Serialized) {
  HttpResponse r;
  r.status = 503;
  r.content_type = "application/json";
  r.body = "{\"health\":\"false\"}";
  r.headers.emplace_back("Allow", "GET");
  EXPECT_EQ(SerializeHttpResponse(r),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 18\r\n"
            "Connection: close\r\n"
            "Allow: GET\r\n"
            "\r\n"
            "{\"health\":\"false\"}");
}

TEST(GrpcMetrics, MethodNamesAndCodes) {
  EXPECT_EQ(SplitGrpcMethod("/etcdserverpb.KV/Put"),
            (std::pair<std::string, std::string>{"etcdserverpb.KV", "Put"}));
  EXPECT_EQ(SplitGrpcMethod("bogus").first, "unknown");
  EXPECT_STREQ(GrpcCodeName(0), "OK");
  EXPECT_STREQ(GrpcCodeName(4), "DeadlineExceeded");
  EXPECT_STREQ(GrpcCodeName(14), "Unavailable");
  EXPECT_STREQ(GrpcCodeName(16), "Unauthenticated");
  EXPECT_STREQ(GrpcCodeName(99), "Unknown");
}

// A blocking client: connect, send `bytes`, read until the server closes (bounded by poll).
std::string Exchange(const std::string& address, const std::string& bytes,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const size_t colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (fd >= 0) close(fd);
    return "<connect failed>";
  }
  // MSG_NOSIGNAL: a server that closed first must not kill the test with SIGPIPE.
  if (!bytes.empty()) (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      out += "<timeout>";
      break;
    }
    char buf[4096];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions o) {
    o.listen = {"127.0.0.1:0"};
    o.routes["/hello"] = [](const HttpRequest& req) {
      HttpResponse r;
      r.body = "hello " + req.target + "\n";
      return r;
    };
    auto s = HttpServer::Start(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s.value());
    address_ = server_->addresses().at(0);
  }
  std::unique_ptr<HttpServer> server_;
  std::string address_;
};

TEST_F(HttpServerTest, ServesGetAndClosesTheConnection) {
  StartServer({});
  EXPECT_EQ(Exchange(address_, "GET /hello?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 17\r\nConnection: close\r\n\r\nhello /hello?x=1\n");
  EXPECT_EQ(server_->stats().requests, 1u);
}

TEST_F(HttpServerTest, UnknownPathOtherMethodsAndBadRequests) {
  StartServer({});
  EXPECT_TRUE(Exchange(address_, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
                  .starts_with("HTTP/1.1 404 Not Found\r\n"));
  const std::string post = Exchange(address_, "POST /hello HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << post;
  EXPECT_NE(post.find("\r\nAllow: GET\r\n"), std::string::npos) << post;
  EXPECT_TRUE(Exchange(address_, "GET /hello HTTP/1.1\r\n\r\n")
                  .starts_with("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_TRUE(Exchange(address_, std::string("\x16\x03\x01\x00\xff\x01garbage", 13))
                  .starts_with("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_EQ(server_->stats().bad_requests, 2u);
  // And it goes on serving.
  EXPECT_TRUE(Exchange(address_, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                  .starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(HttpServerTest, OversizedHeadGets431) {
  HttpServerOptions o;
  o.request_bytes_max = 256;
  StartServer(std::move(o));
  const std::string big = "GET /hello HTTP/1.1\r\nHost: t\r\nX: " + std::string(1000, 'a');
  EXPECT_TRUE(Exchange(address_, big).starts_with("HTTP/1.1 431 ")) << Exchange(address_, big);
}

TEST_F(HttpServerTest, SilentClientIsClosedAtTheDeadline) {
  HttpServerOptions o;
  o.request_timeout = std::chrono::milliseconds(200);
  StartServer(std::move(o));
  const auto start = std::chrono::steady_clock::now();
  // Closed without an answer: there is no request to answer.
  EXPECT_EQ(Exchange(address_, "GET /hel", std::chrono::seconds(5)), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(HttpServerTest, ConnectionsAboveTheLimitAreClosed) {
  HttpServerOptions o;
  o.connections_max = 1;
  o.request_timeout = std::chrono::seconds(5);
  StartServer(std::move(o));
  // Hold one connection open without a request, then try a second.
  const size_t colon = address_.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address_.substr(colon + 1))));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  const int held = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(held, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  // The server counts the held connection once it accepted it: wait (bounded) for a refusal.
  bool refused = false;
  const auto refuse_by = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!refused && std::chrono::steady_clock::now() < refuse_by) {
    refused = Exchange(address_, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").empty();
  }
  EXPECT_TRUE(refused);
  EXPECT_GE(server_->stats().connections_refused, 1u);
  close(held);
  // Once the held connection is gone the server answers again (retries bounded in time).
  bool served = false;
  const auto serve_by = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!served && std::chrono::steady_clock::now() < serve_by) {
    served =
        Exchange(address_, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").starts_with("HTTP/1.1 200");
  }
  EXPECT_TRUE(served);
}

TEST(HttpServer, RefusesAnAddressInUse) {
  auto a = HttpServer::Start(HttpServerOptions{.listen = {"127.0.0.1:0"}});
  ASSERT_TRUE(a.ok());
  auto b = HttpServer::Start(HttpServerOptions{.listen = {a.value()->addresses().at(0)}});
  // SO_REUSEADDR does not let two listeners share a port on Linux.
  EXPECT_FALSE(b.ok());
}

}  // namespace
}  // namespace synod::api
