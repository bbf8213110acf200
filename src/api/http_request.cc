#include "api/http_request.h"

#include <algorithm>
#include <cctype>

namespace synod::api {
namespace {

// RFC 9110 §5.6.2 tchar.
bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// Visible ASCII, space and tab; obs-text (>= 0x80) is allowed in field values (RFC 9110 §5.5).
bool IsFieldValueChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HttpParseResult Bad(std::string why) {
  HttpParseResult r;
  r.state = HttpParseState::kBad;
  r.error = std::move(why);
  return r;
}

// `METHOD SP origin-form SP HTTP/1.x`
bool ParseRequestLine(std::string_view line, HttpRequest* req, std::string* error) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    *error = "request line is not 'method target version'";
    return false;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) {
    *error = "method is not a token";
    return false;
  }
  if (target.empty() || target.front() != '/' ||
      !std::all_of(target.begin(), target.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f;
      })) {
    *error = "target is not an absolute path";
    return false;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    *error = "version is not HTTP/1.0 or HTTP/1.1";
    return false;
  }
  req->method = method;
  req->target = target;
  req->path = target.substr(0, target.find('?'));
  req->version = version;
  return true;
}

bool ParseHeaderLine(std::string_view line, HttpRequest* req, std::string* error) {
  if (line.front() == ' ' || line.front() == '\t') {
    *error = "obsolete line folding";  // RFC 9112 §5.2: may be rejected with 400
    return false;
  }
  const size_t colon = line.find(':');
  // No whitespace between name and colon (RFC 9112 §5.1): IsToken rules it out.
  if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
    *error = "header field is not 'name: value'";
    return false;
  }
  const std::string_view value = Trim(line.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), IsFieldValueChar)) {
    *error = "control character in a header value";
    return false;
  }
  req->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return true;
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

HttpParseResult ParseHttpRequest(std::string_view data) {
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    // Until the head is complete, look only at what must be a method: token characters up to
    // the first space. TLS handshakes, HTTP/2 prefaces of other verbs and binary junk fail here.
    const size_t n = std::min(data.find(' '), data.size());
    const std::string_view method = data.substr(0, n);
    if (!std::all_of(method.begin(), method.end(), IsTokenChar) || (n < data.size() && n == 0)) {
      return Bad("bytes that do not start an HTTP request");
    }
    if (data.find('\0') != std::string_view::npos) return Bad("NUL byte in the request head");
    return HttpParseResult{};
  }
  HttpParseResult r;
  std::string_view head = data.substr(0, end + 2);  // every line keeps its CRLF
  size_t eol = head.find("\r\n");
  if (!ParseRequestLine(head.substr(0, eol), &r.request, &r.error)) return Bad(r.error);
  head.remove_prefix(eol + 2);
  while (!head.empty()) {
    eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return Bad("bare CR or LF in the request head");
    }
    if (!ParseHeaderLine(line, &r.request, &r.error)) return Bad(r.error);
    head.remove_prefix(eol + 2);
  }
  // RFC 9112 §3.2: a 1.1 request without Host gets 400.
  if (r.request.version == "HTTP/1.1" &&
      std::none_of(r.request.headers.begin(), r.request.headers.end(),
                   [](const auto& h) { return EqualsIgnoreCase(h.first, "Host"); })) {
    return Bad("HTTP/1.1 request without Host");
  }
  // These endpoints take no body; one we did not read would be taken for the next request.
  const std::string_view length = r.request.Header("Content-Length");
  if (!r.request.Header("Transfer-Encoding").empty() || (!length.empty() && length != "0")) {
    return Bad("request with a body");
  }
  r.state = HttpParseState::kComplete;
  return r;
}

const char* HttpReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string SerializeHttpResponse(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    HttpReasonPhrase(response.status) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  // One request per connection: the server never has to frame a second request on a socket.
  out += "Connection: close\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  out += response.body;
  return out;
}

}  // namespace synod::api
