// The server's limits attacked over real loopback sockets.
#include "agent/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace vigil::http {
namespace {

using namespace std::chrono_literals;

// A raw client socket.
class Socket {
 public:
  explicit Socket(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Socket() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  bool Send(std::string_view data) {
    return send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Everything until the server closes or `wait` passes.
  std::string ReadAll(std::chrono::milliseconds wait = 3s) {
    std::string out = std::move(pending_);
    pending_.clear();
    auto until = std::chrono::steady_clock::now() + wait;
    char buf[4096];
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // One response (by Content-Length; no body when `head_only`) on a kept-alive connection;
  // bytes of the responses after it (pipelining) are kept for the next call.
  std::string ReadResponse(std::chrono::milliseconds wait = 3s, bool head_only = false) {
    auto until = std::chrono::steady_clock::now() + wait;
    char buf[4096];
    while (true) {
      std::size_t head = pending_.find("\r\n\r\n");
      if (head != std::string::npos) {
        std::size_t cl = pending_.find("Content-Length: ");
        std::size_t len = cl == std::string::npos || cl > head || head_only
                              ? 0
                              : std::stoul(pending_.substr(cl + 16));
        if (pending_.size() >= head + 4 + len) {
          std::string out = pending_.substr(0, head + 4 + len);
          pending_.erase(0, head + 4 + len);
          return out;
        }
      }
      if (std::chrono::steady_clock::now() >= until) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      pending_.append(buf, static_cast<std::size_t>(n));
    }
    std::string out = std::move(pending_);
    pending_.clear();
    return out;
  }
  // True once the server has closed the connection.
  bool ClosedWithin(std::chrono::milliseconds wait) {
    auto until = std::chrono::steady_clock::now() + wait;
    char buf[4096];
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  std::string pending_;  // read, not yet returned
  int fd_ = -1;
  bool connected_ = false;
};

std::uint64_t Rejected(const Server& s, const std::string& reason) {
  for (const auto& [r, n] : s.Stats().rejected) {
    if (r == reason) return n;
  }
  return 0;
}

struct Fixture {
  Server server;
  explicit Fixture(ServerOptions options) : server(options) {
    server.Handle("GET", "/ping", Lane::kFast,
                  [](const Request&, Response& res) { res.Set(200, "pong", "text/plain"); });
    server.Handle("POST", "/echo", Lane::kFast, [](const Request& req, Response& res) {
      res.Set(200, req.Param("a") + "|" + req.body, "text/plain");
    });
    server.Handle("GET", "/throw", Lane::kFast,
                  [](const Request&, Response&) { throw std::runtime_error("boom"); });
    REQUIRE(server.Listen("127.0.0.1", 0).ok());
    server.Start();
  }
  int port() const { return server.port(); }
};

TEST_CASE("The server answers, keeps connections alive and pipelines", "[http][server]") {
  Fixture f(ServerOptions{});
  Socket s(f.port());
  REQUIRE(s.connected());
  REQUIRE(s.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\n\r\n"));
  std::string first = s.ReadResponse();
  CHECK(first.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(first.ends_with("pong"));
  std::string second = s.ReadResponse();
  CHECK(second.ends_with("pong"));
  REQUIRE(s.Send("POST /echo?a=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"));
  CHECK(s.ReadResponse().ends_with("1|hello"));
  REQUIRE(
      s.Send("POST /echo HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: 3\r\n\r\na=2"));
  CHECK(s.ReadResponse().ends_with("2|a=2"));
  REQUIRE(s.Send("HEAD /ping HTTP/1.1\r\n\r\n"));
  std::string head = s.ReadResponse(3s, /*head_only=*/true);
  CHECK(head.find("Content-Length: 4\r\n") != std::string::npos);
  CHECK(head.ends_with("\r\n\r\n"));
  REQUIRE(s.Send("DELETE /ping HTTP/1.1\r\n\r\n"));
  CHECK(s.ReadResponse().starts_with("HTTP/1.1 405"));
  REQUIRE(s.Send("GET /nowhere HTTP/1.1\r\n\r\n"));
  CHECK(s.ReadResponse().starts_with("HTTP/1.1 404"));
  REQUIRE(s.Send("GET /throw HTTP/1.1\r\n\r\n"));
  CHECK(s.ReadResponse().starts_with("HTTP/1.1 500"));
  REQUIRE(s.Send("GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n"));
  CHECK(s.ReadAll().ends_with("pong"));
}

TEST_CASE("Oversized heads get 431, oversized bodies 413, malformed ones 400", "[http][server]") {
  ServerOptions o;
  o.max_header_bytes = 1024;
  o.max_headers = 8;
  o.max_body_bytes = 100;
  Fixture f(o);
  {
    Socket s(f.port());
    REQUIRE(s.Send("GET /ping HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n"));
    CHECK(s.ReadAll().starts_with("HTTP/1.1 431"));
  }
  {
    Socket s(f.port());  // a head that never ends
    REQUIRE(s.Send("GET /ping HTTP/1.1\r\n" + std::string(5000, 'a')));
    CHECK(s.ReadAll().starts_with("HTTP/1.1 431"));
  }
  {
    Socket s(f.port());
    std::string head = "GET /ping HTTP/1.1\r\n";
    for (int i = 0; i < 9; ++i) head += "h" + std::to_string(i) + ": v\r\n";
    REQUIRE(s.Send(head + "\r\n"));
    CHECK(s.ReadAll().starts_with("HTTP/1.1 431"));
  }
  {
    Socket s(f.port());  // refused before the body is read
    REQUIRE(s.Send("POST /echo HTTP/1.1\r\nContent-Length: 101\r\n\r\n"));
    CHECK(s.ReadAll().starts_with("HTTP/1.1 413"));
  }
  {
    Socket s(f.port());
    REQUIRE(s.Send("POST /echo HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"));
    CHECK(s.ReadAll().starts_with("HTTP/1.1 413"));
  }
  for (const char* bad : {"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                          "POST /echo HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "GARBAGE\r\n\r\n",
                          "\x16\x03\x01\x02\x05\x01\r\n\r\n"}) {
    Socket s(f.port());
    REQUIRE(s.Send(bad));
    CHECK(s.ReadAll().starts_with("HTTP/1.1 400"));
  }
  {
    Socket s(f.port());
    REQUIRE(
        s.Send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    CHECK(s.ReadAll().starts_with("HTTP/1.1 411"));
  }
  CHECK(Rejected(f.server, "header_too_large") == 3);
  CHECK(Rejected(f.server, "body_too_large") == 2);
  // The server still serves.
  Socket ok(f.port());
  REQUIRE(ok.Send("GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n"));
  CHECK(ok.ReadAll().ends_with("pong"));
}

TEST_CASE("Slow clients are cut off by the header, body and idle deadlines", "[http][server]") {
  ServerOptions o;
  o.header_timeout = 300ms;
  o.body_timeout = 300ms;
  o.idle_timeout = 300ms;
  Fixture f(o);
  Socket slow_head(f.port());
  REQUIRE(slow_head.Send("GET /ping HTTP/1.1\r\n"));
  Socket slow_body(f.port());
  REQUIRE(slow_body.Send("POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"));
  Socket idle(f.port());
  // A slowloris trickle does not extend the head's deadline.
  Socket trickle(f.port());
  REQUIRE(trickle.Send("G"));
  auto started = std::chrono::steady_clock::now();
  bool trickle_closed = false;
  for (int i = 0; i < 40 && !trickle_closed; ++i) {
    trickle_closed = !trickle.Send("X") || trickle.ClosedWithin(25ms);
  }
  CHECK(trickle_closed);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(slow_head.ClosedWithin(2s));
  CHECK(slow_body.ClosedWithin(2s));
  CHECK(idle.ClosedWithin(2s));
  CHECK(Rejected(f.server, "header_timeout") >= 2);
  CHECK(Rejected(f.server, "body_timeout") == 1);
}

TEST_CASE("At the connection cap the slowest reader makes room for a new client",
          "[http][server]") {
  ServerOptions o;
  o.max_connections = 16;
  Fixture f(o);
  std::vector<std::unique_ptr<Socket>> hogs;
  for (int i = 0; i < 40; ++i) {
    hogs.push_back(std::make_unique<Socket>(f.port()));
    hogs.back()->Send("GET /ping HTTP/1.1\r\n");
    std::this_thread::sleep_for(2ms);
  }
  Socket fresh(f.port());
  REQUIRE(fresh.Send("GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n"));
  CHECK(fresh.ReadAll().ends_with("pong"));
  CHECK(f.server.Stats().connections_open <= 16);
  CHECK(Rejected(f.server, "evicted") >= 24);
}

TEST_CASE("Queries never hold up the fast lane, and a full lane answers 503", "[http][server]") {
  ServerOptions o;
  o.query_workers = 1;
  o.queue_capacity = 2;
  Server server(o);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> cancelled_seen{0};
  server.Handle("GET", "/slow", Lane::kQuery, [&](const Request& req, Response& res) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, 5s, [&] { return release || req.cancelled->load(); });
    if (req.cancelled->load()) ++cancelled_seen;
    res.Set(200, "slow", "text/plain");
  });
  server.Handle("GET", "/ping", Lane::kFast,
                [](const Request&, Response& res) { res.Set(200, "pong", "text/plain"); });
  REQUIRE(server.Listen("127.0.0.1", 0).ok());
  server.Start();
  std::vector<std::unique_ptr<Socket>> slow;
  for (int i = 0; i < 3; ++i) {  // one running, two waiting
    slow.push_back(std::make_unique<Socket>(server.port()));
    slow.back()->Send("GET /slow HTTP/1.1\r\n\r\n");
    std::this_thread::sleep_for(100ms);  // the first is running before the others queue
  }
  std::this_thread::sleep_for(200ms);
  Socket over(server.port());
  REQUIRE(over.Send("GET /slow HTTP/1.1\r\n\r\n"));
  std::string busy = over.ReadResponse();
  CAPTURE(busy);
  CHECK(busy.starts_with("HTTP/1.1 503"));
  CHECK(busy.find("Retry-After: 1") != std::string::npos);
  auto t0 = std::chrono::steady_clock::now();
  Socket ping(server.port());
  REQUIRE(ping.Send("GET /ping HTTP/1.1\r\n\r\n"));
  CHECK(ping.ReadResponse().ends_with("pong"));
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  // The running query's client goes away: its request is cancelled.
  slow[0]->Close();
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    cv.notify_all();
    std::this_thread::sleep_for(10ms);
    seen = cancelled_seen.load() >= 1;
  }
  CHECK(seen);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  CHECK(slow[1]->ReadResponse().ends_with("slow"));
  server.Stop();
}

TEST_CASE("A client that half-closes after its request is still answered", "[http][server]") {
  Fixture f(ServerOptions{});
  Socket s(f.port());
  REQUIRE(s.Send("GET /ping HTTP/1.1\r\n\r\n"));
  s.ShutdownWrite();
  CHECK(s.ReadAll().ends_with("pong"));
}

}  // namespace
}  // namespace vigil::http
