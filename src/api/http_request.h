// HTTP/1.1 request heads and responses for the metrics and health endpoints (RFC 9112). Pure
// functions over bytes, no sockets: http_server.* feeds them what it reads.
//
// Only what a scraper or a health probe sends is accepted: a request line in origin form
// (`GET /metrics HTTP/1.1`), header fields, and no body. Anything else is kBad, so the server
// answers 400 and closes the connection rather than guessing.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synod::api {

struct HttpRequest {
  std::string method;   // "GET"
  std::string target;   // "/metrics?x=1", as sent
  std::string path;     // "/metrics": the target without its query
  std::string version;  // "HTTP/1.1" or "HTTP/1.0"
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed

  // The first value of a header, by case-insensitive name; empty if absent.
  std::string_view Header(std::string_view name) const;
};

enum class HttpParseState {
  kIncomplete,  // no blank line yet, and nothing seen so far rules out a request
  kComplete,
  kBad,
};

struct HttpParseResult {
  HttpParseState state = HttpParseState::kIncomplete;
  HttpRequest request;  // when kComplete
  std::string error;    // when kBad: why, for the log
};

// Parses the request head at the start of `data` (which may hold only part of it). Fails early
// on bytes no request line starts with, so garbage is closed before the read timeout.
HttpParseResult ParseHttpRequest(std::string_view data);

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Allow
};

// Status line, Content-Type, Content-Length, `Connection: close`, extra headers, body.
std::string SerializeHttpResponse(const HttpResponse& response);
// "OK", "Bad Request", ... for the codes this server sends.
const char* HttpReasonPhrase(int status);

}  // namespace synod::api
