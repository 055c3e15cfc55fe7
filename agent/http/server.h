// Server: vigil's HTTP/1.1 server, built so that no client can starve it.
//
// One event thread owns every connection (epoll, non-blocking sockets, TLS through OpenSSL):
// it reads each request head and body under a deadline and size limits, then hands the whole
// request to a worker lane. Slow or idle clients therefore cost a file descriptor and a few
// KiB, never a thread. Two lanes keep cheap endpoints (/metrics, health, the status page)
// answering while queries run: kFast and kQuery each have their own threads and a bounded
// queue; a full queue answers 503 at once. A client that goes away while its request is in a
// lane sets Request::cancelled, which queries check. At max_connections the connection that
// has been reading a request the longest (the slowest client) is closed for the new one.
//
// Thread-safety: Handle/SetFilter before Start; Start and Stop from one thread; Stats() from
// any thread. Handlers run on worker threads, several at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/base/status.h"
#include "agent/http/message.h"

namespace vigil::http {

using Handler = std::function<void(const Request&, Response&)>;
// Runs before every route on the worker; returns false when it has answered (e.g. 401).
using Filter = std::function<bool(const Request&, Response&)>;

enum class Lane { kFast, kQuery };

struct ServerOptions {
  // From a request's first byte (or a TLS handshake's) to the end of its head.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  // From the end of the head to the end of the body.
  std::chrono::milliseconds body_timeout{std::chrono::seconds(30)};
  // To write a whole response.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  // A keep-alive connection with no request.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::size_t max_header_bytes = 16 * 1024;  // request line and headers (431 beyond)
  std::size_t max_headers = 64;              // header lines (431 beyond)
  std::size_t max_body_bytes = 512 * 1024;   // 413 beyond
  // Request and response bytes held by all connections outside handlers; beyond it the
  // connection holding the most is closed (a slow body or a response nobody reads).
  std::size_t max_buffered_bytes = 64 << 20;
  std::size_t max_params = 1000;  // query string and form pairs (400 beyond)
  std::size_t max_connections = 512;
  std::size_t max_requests_per_connection = 1000;  // then "Connection: close"
  std::size_t fast_workers = 2;
  std::size_t query_workers = 2;    // --query.max-concurrency
  std::size_t queue_capacity = 64;  // waiting requests per lane (503 beyond)
  std::string cert_file, key_file;  // TLS when both are set
};

struct ServerStats {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_accepted = 0;
  std::uint64_t requests = 0;
  // Requests and connections refused, by reason: header_timeout, body_timeout, write_timeout,
  // idle_timeout, header_too_large, body_too_large, bad_request, overloaded, evicted, tls.
  std::vector<std::pair<std::string, std::uint64_t>> rejected;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `path` matches exactly, or every path under it when it ends with '/' (but "/" only
  // matches itself). HEAD is served by
  // the GET route (without the body). A path with routes but not for the method gets 405.
  void Handle(std::string method, std::string path, Lane lane, Handler handler);
  void SetFilter(Filter filter);

  // Binds host:port (port 0: any free port) and loads the TLS certificate when configured.
  Status Listen(const std::string& host, int port);
  int port() const { return port_; }
  // Starts the event thread and the workers. REQUIRES: Listen succeeded.
  void Start();
  // Closes every connection and joins every thread; a running handler finishes first.
  void Stop();

  ServerStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace vigil::http
