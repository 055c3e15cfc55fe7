// HTTP request and response of vigil's server (agent/http/server.h), and the pure parsers
// the server and the API share: URL-encoded forms and the request head.
//
// Plain values; thread-compatible. A Request is read by one handler on one worker thread; its
// `cancelled` flag is set by the server's event thread when the client goes away.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/base/status.h"

namespace vigil::http {

using Params = std::vector<std::pair<std::string, std::string>>;
using Headers = std::vector<std::pair<std::string, std::string>>;  // names in lower case

struct Request {
  std::string method;     // "GET", "POST", ...
  std::string path;       // the target's path, as sent ("/api/v1/query")
  std::string query;      // the target's query string, as sent (without '?')
  int minor_version = 1;  // HTTP/1.x
  Headers headers;
  std::string body;
  Params params;  // the query string's, then an URL-encoded form body's
  std::string remote_address;
  std::chrono::steady_clock::time_point received;  // when the request was read completely
  const std::atomic<bool>* cancelled = nullptr;    // true once the client has gone away

  // The first header of that (lower-case) name, or null.
  const std::string* Header(std::string_view name) const;
  bool HasParam(std::string_view name) const;
  // The first value of the parameter, or "".
  std::string Param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  Headers headers;  // extra headers; CR and LF are removed from values when written

  void Set(int code, std::string content, std::string type) {
    status = code;
    body = std::move(content);
    content_type = std::move(type);
  }
};

// Appends the pairs of an application/x-www-form-urlencoded text ("a=1&b=x+y%21") to `out`,
// decoding '+' and %XX (a malformed escape is kept as it is). InvalidArgument once `out` would
// hold more than `max_params` pairs.
Status ParseUrlEncoded(std::string_view text, Params& out, std::size_t max_params);

// What the head of a request may hold.
struct HeadLimits {
  std::size_t max_headers = 64;
};

// Parses a request head (request line and header lines, each ending in CRLF or LF, without the
// empty line that ends the head) into method, path, query, version and headers of `req`.
// InvalidArgument names the problem ("malformed request line", "too many headers", ...).
Status ParseRequestHead(std::string_view head, const HeadLimits& limits, Request& req);

// "OK", "Not Found", ...; "Unknown" for codes it does not know.
std::string_view ReasonPhrase(int status);

}  // namespace vigil::http
