#include "agent/http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <csignal>
#include <deque>
#include <map>
#include <unordered_map>

#include "agent/base/log.h"
#include "agent/base/mutex.h"
#include "agent/base/thread_name.h"

namespace vigil::http {
namespace {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr int kMaxAcceptsPerWake = 64;
constexpr char kOverloaded[] =
    "{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"server busy: too many "
    "requests waiting, retry later\"}";

enum Reason {
  kHeaderTimeout,
  kBodyTimeout,
  kWriteTimeout,
  kIdleTimeout,
  kHeaderTooLarge,
  kBodyTooLarge,
  kBadRequest,
  kOverloadedReason,
  kEvicted,
  kTls,
  kReasonCount
};
constexpr std::array<const char*, kReasonCount> kReasonNames = {
    "header_timeout", "body_timeout", "write_timeout", "idle_timeout", "header_too_large",
    "body_too_large", "bad_request",  "overloaded",    "evicted",      "tls"};

std::string Serialize(const Response& res, bool head_only, bool close) {
  std::string out;
  out.reserve(res.body.size() + 256);
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += ReasonPhrase(res.status);
  out += "\r\n";
  auto header = [&out](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    for (char c : value) {
      if (c != '\r' && c != '\n') out += c;
    }
    out += "\r\n";
  };
  if (!res.content_type.empty()) header("Content-Type", res.content_type);
  header("Content-Length", std::to_string(res.body.size()));
  if (close) header("Connection", "close");
  for (const auto& [name, value] : res.headers) header(name, value);
  out += "\r\n";
  if (!head_only) out += res.body;
  return out;
}

std::string ErrorBody(std::string_view message) {
  return std::string("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"") +
         std::string(message) + "\"}";
}

struct Route {
  std::string method, path;
  Lane lane;
  Handler handler;
};

// A finished response on its way back to the event thread.
struct Completion {
  std::uint64_t conn_id;
  std::string bytes;
  bool close;
};

}  // namespace

class Server::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {}
  ~Impl() { Stop(); }

  void Handle(std::string method, std::string path, Lane lane, Handler handler) {
    routes_.push_back(Route{std::move(method), std::move(path), lane, std::move(handler)});
  }
  void SetFilter(Filter f) { filter_ = std::move(f); }

  Status Listen(const std::string& host, int port, int* bound_port);
  void Start();
  void Stop();
  ServerStats Stats() const;

 private:
  enum class State { kHandshake, kReading, kInService, kWriting };
  struct Conn {
    int fd = -1;
    std::uint64_t id = 0;
    SSL* ssl = nullptr;
    State state = State::kReading;
    std::string remote;
    std::string in;           // received, not yet consumed
    std::size_t scanned = 0;  // `in` has no end of head before this offset
    bool head_done = false;
    std::size_t head_size = 0;  // bytes of the head, the empty line included
    std::size_t body_size = 0;
    std::unique_ptr<Request> req;
    std::string out;
    std::size_t out_done = 0;
    bool close_after_write = false;
    bool peer_gone = false;
    std::size_t served = 0;
    TimePoint deadline;
    TimePoint since;  // when the current request (or handshake) started
    Reason timeout_reason = kIdleTimeout;
    std::shared_ptr<std::atomic<bool>> cancelled;
    std::uint32_t events = 0;
    std::size_t in_bytes = 0, out_bytes = 0;  // what counts against max_buffered_bytes
  };
  struct Job {
    std::uint64_t conn_id;
    std::unique_ptr<Request> req;
    std::shared_ptr<std::atomic<bool>> cancelled;
    const Route* route;  // null: no route (404) or 405, decided by `status`
    int status;
    bool head_only;
    bool close;
  };
  struct LanePool {
    Mutex mu;
    CondVar cv;
    std::deque<Job> queue GUARDED_BY(mu);
    bool stop GUARDED_BY(mu) = false;
    std::vector<std::thread> threads;
  };

  void Loop();
  void Accept();
  void OnEvent(Conn& c, std::uint32_t events);
  void OnReadable(Conn& c);
  void Handshake(Conn& c);
  // Parses what `in` holds; dispatches a complete request. False when `c` was closed.
  bool Process(Conn& c);
  void Dispatch(Conn& c);
  void Reply(Conn& c, int status, std::string body, Reason reason);
  void StartWrite(Conn& c, std::string bytes, bool close);
  void OnWritable(Conn& c);
  void FinishWrite(Conn& c);
  void Watch(Conn& c, std::uint32_t events);
  // Records what `c` buffers; WithinBudget closes connections while the total is over
  // max_buffered_bytes and returns false if `c` was one of them.
  void Buffer(Conn& c, std::size_t in_size, std::size_t out_size);
  bool WithinBudget(Conn& c);
  void Close(std::uint64_t id, Reason* reason);
  void Sweep(TimePoint now);
  void DrainCompletions() EXCLUDES(done_mu_);
  void Work(LanePool& pool) EXCLUDES(done_mu_);
  Completion Run(Job& job);
  void Count(Reason r) { rejected_[r].fetch_add(1, std::memory_order_relaxed); }
  // Reads into `buf`: > 0 bytes, 0 at end of stream, -1 would block, -2 error.
  long ReadSome(Conn& c, char* buf, std::size_t n);
  long WriteSome(Conn& c, const char* buf, std::size_t n);

  ServerOptions options_;
  std::vector<Route> routes_;
  Filter filter_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  SSL_CTX* ssl_ctx_ = nullptr;
  std::thread loop_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  // Owned by the event thread.
  std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::unordered_map<int, std::uint64_t> by_fd_;
  std::uint64_t next_id_ = 1;
  std::size_t buffered_ = 0;
  TimePoint last_sweep_;
  LanePool fast_, query_;
  Mutex done_mu_;
  std::vector<Completion> done_ GUARDED_BY(done_mu_);

  std::atomic<std::uint64_t> open_{0}, accepted_{0}, requests_{0};
  std::array<std::atomic<std::uint64_t>, kReasonCount> rejected_{};
};

Status Server::Impl::Listen(const std::string& host, int port, int* bound_port) {
  if (!options_.cert_file.empty()) {
    ssl_ctx_ = SSL_CTX_new(TLS_server_method());
    if (ssl_ctx_ == nullptr) return Status::Internal("cannot create a TLS context");
    SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
    SSL_CTX_set_mode(ssl_ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx_, options_.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl_ctx_, options_.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ssl_ctx_) != 1) {
      ERR_clear_error();
      return Status::InvalidArgument("cannot load the TLS certificate or key");
    }
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res) != 0 ||
      res == nullptr) {
    return Status::InvalidArgument("cannot resolve listen address \"" + host + "\"");
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool ok = fd >= 0 && bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 1024) == 0;
  freeaddrinfo(res);
  if (!ok) {
    if (fd >= 0) close(fd);
    return Status::Unavailable("cannot listen on " + host + ":" + service);
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port = addr.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                    : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  listen_fd_ = fd;
  return Status::Ok();
}

void Server::Impl::Start() {
  // A peer that closes while we write must not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.fast_workers); ++i) {
    fast_.threads.emplace_back([this] {
      SetCurrentThreadName("vigil-http-fast");
      Work(fast_);
    });
  }
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.query_workers); ++i) {
    query_.threads.emplace_back([this] {
      SetCurrentThreadName("vigil-http-qry");
      Work(query_);
    });
  }
  started_ = true;
  loop_ = std::thread([this] {
    SetCurrentThreadName("vigil-http");
    Loop();
  });
}

void Server::Impl::Stop() {
  if (!started_) {
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
    if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
    ssl_ctx_ = nullptr;
    return;
  }
  started_ = false;
  stopping_ = true;
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  loop_.join();
  for (LanePool* pool : {&fast_, &query_}) {
    {
      MutexLock lock(pool->mu);
      pool->stop = true;
    }
    pool->cv.NotifyAll();
    for (std::thread& t : pool->threads) t.join();
    pool->threads.clear();
  }
  std::vector<std::uint64_t> ids;
  for (const auto& [id, c] : conns_) ids.push_back(id);
  for (std::uint64_t id : ids) Close(id, nullptr);
  close(listen_fd_);
  close(epoll_fd_);
  close(wake_fd_);
  listen_fd_ = epoll_fd_ = wake_fd_ = -1;
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  ssl_ctx_ = nullptr;
}

ServerStats Server::Impl::Stats() const {
  ServerStats st;
  st.connections_open = open_.load();
  st.connections_accepted = accepted_.load();
  st.requests = requests_.load();
  for (int r = 0; r < kReasonCount; ++r) st.rejected.emplace_back(kReasonNames[r], rejected_[r]);
  return st;
}

void Server::Impl::Loop() {
  std::array<epoll_event, 128> events;
  while (!stopping_) {
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        Accept();
      } else if (fd == wake_fd_) {
        std::uint64_t v;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &v, sizeof v);
        DrainCompletions();
      } else {
        auto it = by_fd_.find(fd);
        if (it == by_fd_.end()) continue;
        auto c = conns_.find(it->second);
        if (c != conns_.end()) OnEvent(*c->second, events[i].events);
      }
    }
    TimePoint now = SteadyClock::now();
    if (now - last_sweep_ >= std::chrono::milliseconds(50)) {
      Sweep(now);
      last_sweep_ = now;
    }
  }
}

void Server::Impl::Accept() {
  for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd =
        accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or out of descriptors: the backlog waits
    if (conns_.size() >= options_.max_connections) {
      // Make room: the connection that has been reading its request the longest goes.
      Conn* oldest = nullptr;
      for (auto& [id, c] : conns_) {
        if (c->state != State::kReading && c->state != State::kHandshake) continue;
        if (oldest == nullptr || c->since < oldest->since) oldest = c.get();
      }
      if (oldest == nullptr) {
        close(fd);
        Count(kOverloadedReason);
        continue;
      }
      Reason r = kEvicted;
      Close(oldest->id, &r);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->id = next_id_++;
    char host[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host, sizeof host);
    } else if (addr.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, host, sizeof host);
    }
    c->remote = host;
    TimePoint now = SteadyClock::now();
    c->since = now;
    if (ssl_ctx_ != nullptr) {
      c->ssl = SSL_new(ssl_ctx_);
      SSL_set_fd(c->ssl, fd);
      SSL_set_accept_state(c->ssl);
      c->state = State::kHandshake;
      c->deadline = now + options_.header_timeout;
      c->timeout_reason = kHeaderTimeout;
    } else {
      c->state = State::kReading;
      c->deadline = now + options_.idle_timeout;
      c->timeout_reason = kIdleTimeout;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    c->events = ev.events;
    by_fd_[fd] = c->id;
    accepted_.fetch_add(1, std::memory_order_relaxed);
    open_.fetch_add(1, std::memory_order_relaxed);
    conns_.emplace(c->id, std::move(c));
  }
}

void Server::Impl::Watch(Conn& c, std::uint32_t events) {
  if (c.events == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = c.fd;
  int op = c.events == 0 ? EPOLL_CTL_ADD : (events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
  epoll_ctl(epoll_fd_, op, c.fd, &ev);
  c.events = events;
}

void Server::Impl::Buffer(Conn& c, std::size_t in_size, std::size_t out_size) {
  buffered_ -= c.in_bytes + c.out_bytes;
  c.in_bytes = in_size;
  c.out_bytes = out_size;
  buffered_ += in_size + out_size;
}

bool Server::Impl::WithinBudget(Conn& c) {
  // Over the budget, the connection holding the most bytes outside a handler goes: the
  // client sending a large body slowly, or the one not reading a large response.
  while (buffered_ > options_.max_buffered_bytes) {
    Conn* largest = nullptr;
    for (auto& [id, other] : conns_) {
      if (other->state == State::kInService) continue;
      if (largest == nullptr ||
          other->in_bytes + other->out_bytes > largest->in_bytes + largest->out_bytes) {
        largest = other.get();
      }
    }
    if (largest == nullptr) return true;
    bool self = largest == &c;
    Reason r = kEvicted;
    Close(largest->id, &r);
    if (self) return false;
  }
  return true;
}

void Server::Impl::Close(std::uint64_t id, Reason* reason) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (reason != nullptr) Count(*reason);
  if (c.cancelled) c.cancelled->store(true);
  Buffer(c, 0, 0);
  if (c.ssl != nullptr) {
    SSL_shutdown(c.ssl);  // best effort, never waits: the socket is non-blocking
    SSL_free(c.ssl);
    ERR_clear_error();
  }
  if (c.events != 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  close(c.fd);
  by_fd_.erase(c.fd);
  conns_.erase(it);
  open_.fetch_sub(1, std::memory_order_relaxed);
}

long Server::Impl::ReadSome(Conn& c, char* buf, std::size_t n) {
  if (c.ssl == nullptr) {
    ssize_t r = recv(c.fd, buf, n, 0);
    if (r >= 0) return r;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
  }
  int r = SSL_read(c.ssl, buf, static_cast<int>(n));
  if (r > 0) return r;
  int err = SSL_get_error(c.ssl, r);
  ERR_clear_error();
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return -1;
  return err == SSL_ERROR_ZERO_RETURN ? 0 : -2;
}

long Server::Impl::WriteSome(Conn& c, const char* buf, std::size_t n) {
  if (c.ssl == nullptr) {
    ssize_t r = send(c.fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0) return r;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
  }
  int r = SSL_write(c.ssl, buf, static_cast<int>(std::min<std::size_t>(n, 1 << 30)));
  if (r > 0) return r;
  int err = SSL_get_error(c.ssl, r);
  ERR_clear_error();
  return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ? -1 : -2;
}

void Server::Impl::OnEvent(Conn& c, std::uint32_t events) {
  if (c.state == State::kInService) {
    // The client closed (or reset) while its request runs: the query is cancelled; what the
    // handler answers is still written if the socket takes it.
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      c.peer_gone = true;
      if (c.cancelled) c.cancelled->store(true);
      Watch(c, 0);
    }
    return;
  }
  if (c.state == State::kHandshake) {
    Handshake(c);
    return;
  }
  if (c.state == State::kWriting) {
    if (events & (EPOLLHUP | EPOLLERR)) {
      Close(c.id, nullptr);
      return;
    }
    OnWritable(c);
    return;
  }
  OnReadable(c);
}

void Server::Impl::Handshake(Conn& c) {
  int r = SSL_do_handshake(c.ssl);
  if (r == 1) {
    c.state = State::kReading;
    c.deadline = SteadyClock::now() + options_.idle_timeout;
    c.timeout_reason = kIdleTimeout;
    Watch(c, EPOLLIN | EPOLLRDHUP);
    OnReadable(c);  // the client's first request may already be buffered
    return;
  }
  int err = SSL_get_error(c.ssl, r);
  ERR_clear_error();
  if (err == SSL_ERROR_WANT_READ) {
    Watch(c, EPOLLIN | EPOLLRDHUP);
  } else if (err == SSL_ERROR_WANT_WRITE) {
    Watch(c, EPOLLOUT | EPOLLRDHUP);
  } else {
    Reason reason = kTls;
    Close(c.id, &reason);
  }
}

void Server::Impl::OnReadable(Conn& c) {
  char buf[kReadChunk];
  const std::uint64_t id = c.id;
  // Read what is there, but never more than one request can be (the limits) plus a chunk.
  const std::size_t cap = options_.max_header_bytes + options_.max_body_bytes + kReadChunk;
  while (c.in.size() < cap) {
    long n = ReadSome(c, buf, sizeof buf);
    if (n == -1) break;
    if (n == 0) {
      // The client has closed its side: a request it sent whole is still answered.
      c.peer_gone = true;
      Process(c);
      if (conns_.count(id) && c.state == State::kReading) Close(id, nullptr);
      return;
    }
    if (n < 0) {
      Close(id, nullptr);
      return;
    }
    if (c.in.empty() && !c.head_done) {
      // The first byte of a request: its head must arrive within header_timeout.
      c.since = SteadyClock::now();
      c.deadline = c.since + options_.header_timeout;
      c.timeout_reason = kHeaderTimeout;
    }
    c.in.append(buf, static_cast<std::size_t>(n));
    Buffer(c, c.in.size(), c.out_bytes);
    if (!WithinBudget(c)) return;
    if (!c.head_done && c.in.size() > options_.max_header_bytes) break;
  }
  Process(c);
}

bool Server::Impl::Process(Conn& c) {
  if (c.state != State::kReading) return true;
  if (!c.head_done) {
    // The head ends at the first empty line ("\r\n\r\n" or "\n\n").
    std::size_t end = std::string::npos;
    for (std::size_t i = c.scanned; i < c.in.size(); ++i) {
      if (c.in[i] != '\n') continue;
      if (i >= 1 && c.in[i - 1] == '\n') {
        end = i + 1;
        break;
      }
      if (i >= 2 && c.in[i - 1] == '\r' && c.in[i - 2] == '\n') {
        end = i + 1;
        break;
      }
    }
    if (end == std::string::npos) {
      c.scanned = c.in.size();
      if (c.in.size() > options_.max_header_bytes) {
        Reply(c, 431, ErrorBody("request header fields too large"), kHeaderTooLarge);
        return false;
      }
      return true;
    }
    if (end > options_.max_header_bytes) {
      Reply(c, 431, ErrorBody("request header fields too large"), kHeaderTooLarge);
      return false;
    }
    // Leading empty lines before a request line are allowed (RFC 9112 2.2).
    std::string_view head(c.in.data(), end);
    auto req = std::make_unique<Request>();
    Status s = ParseRequestHead(head, HeadLimits{options_.max_headers}, *req);
    if (!s.ok()) {
      bool too_many = s.message().starts_with("too many headers");
      Reply(c, too_many ? 431 : 400, ErrorBody(s.message()),
            too_many ? kHeaderTooLarge : kBadRequest);
      return false;
    }
    if (req->Header("transfer-encoding") != nullptr) {
      Reply(c, 411, ErrorBody("chunked request bodies are not accepted; send Content-Length"),
            kBadRequest);
      return false;
    }
    std::size_t length = 0;
    if (const std::string* cl = req->Header("content-length")) {
      auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), length);
      if (ec == std::errc::result_out_of_range) {
        length = std::numeric_limits<std::size_t>::max();
      } else if (ec != std::errc() || p != cl->data() + cl->size()) {
        Reply(c, 400, ErrorBody("malformed Content-Length"), kBadRequest);
        return false;
      }
    }
    if (length > options_.max_body_bytes) {
      Reply(c, 413,
            ErrorBody("request body larger than " + std::to_string(options_.max_body_bytes) +
                      " bytes"),
            kBodyTooLarge);
      return false;
    }
    if (const std::string* expect = req->Header("expect");
        expect != nullptr && *expect == "100-continue" && length > 0 &&
        c.in.size() - end < length) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      WriteSome(c, kContinue, sizeof kContinue - 1);  // best effort: the client sends anyway
    }
    req->remote_address = c.remote;
    c.req = std::move(req);
    c.head_done = true;
    c.head_size = end;
    c.body_size = length;
    c.deadline = SteadyClock::now() + options_.body_timeout;
    c.timeout_reason = kBodyTimeout;
  }
  if (c.in.size() < c.head_size + c.body_size) return true;  // the body is on its way
  c.req->body = c.in.substr(c.head_size, c.body_size);
  c.in.erase(0, c.head_size + c.body_size);  // what follows is the next (pipelined) request
  Buffer(c, c.in.size(), c.out_bytes);
  c.scanned = 0;
  c.head_done = false;
  Dispatch(c);
  return true;
}

void Server::Impl::Dispatch(Conn& c) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  ++c.served;
  Request& req = *c.req;
  req.received = SteadyClock::now();
  Status params = ParseUrlEncoded(req.query, req.params, options_.max_params);
  const std::string* type = req.Header("content-type");
  if (params.ok() && type != nullptr && req.method == "POST" &&
      type->starts_with("application/x-www-form-urlencoded")) {
    params = ParseUrlEncoded(req.body, req.params, options_.max_params);
  }
  if (!params.ok()) {
    Reply(c, 400, ErrorBody(params.message()), kBadRequest);
    return;
  }
  const std::string* connection = req.Header("connection");
  bool close =
      c.served >= options_.max_requests_per_connection ||
      (connection != nullptr && (*connection == "close" || *connection == "Close")) ||
      (req.minor_version == 0 &&
       (connection == nullptr || (*connection != "keep-alive" && *connection != "Keep-Alive")));
  bool head_only = req.method == "HEAD";
  const std::string& method = head_only ? std::string("GET") : req.method;
  const Route* found = nullptr;
  bool path_known = false;
  for (const Route& r : routes_) {
    bool prefix = r.path.size() > 1 && r.path.ends_with('/');
    bool match = prefix ? req.path.starts_with(r.path) : req.path == r.path;
    if (!match) continue;
    path_known = true;
    if (r.method == method) {
      found = &r;
      break;
    }
  }
  c.cancelled = std::make_shared<std::atomic<bool>>(false);
  req.cancelled = c.cancelled.get();
  Job job{
      c.id, std::move(c.req), c.cancelled, found, found ? 200 : (path_known ? 405 : 404), head_only,
      close};
  LanePool& pool = found != nullptr && found->lane == Lane::kQuery ? query_ : fast_;
  bool full;
  {
    MutexLock lock(pool.mu);
    full = pool.queue.size() >= options_.queue_capacity;
    if (!full) pool.queue.push_back(std::move(job));
  }
  if (full) {  // answered outside the lock: the workers need not wait for the write
    Count(kOverloadedReason);
    Response res;
    res.Set(503, kOverloaded, "application/json");
    res.headers.emplace_back("Retry-After", "1");
    c.state = State::kInService;  // StartWrite moves it on
    StartWrite(c, Serialize(res, head_only, close), close);
    return;
  }
  pool.cv.NotifyOne();
  c.state = State::kInService;
  // A client that half-closed after sending its request is answered, not cancelled.
  Watch(c, c.peer_gone ? 0u : static_cast<std::uint32_t>(EPOLLRDHUP));
}

void Server::Impl::Reply(Conn& c, int status, std::string body, Reason reason) {
  Count(reason);
  Response res;
  res.Set(status, std::move(body), "application/json");
  c.state = State::kInService;
  c.req.reset();
  c.in.clear();
  Buffer(c, 0, c.out_bytes);
  StartWrite(c, Serialize(res, false, true), true);
}

void Server::Impl::StartWrite(Conn& c, std::string bytes, bool close) {
  c.out = std::move(bytes);
  c.out_done = 0;
  c.close_after_write = close;
  c.state = State::kWriting;
  c.deadline = SteadyClock::now() + options_.write_timeout;
  c.timeout_reason = kWriteTimeout;
  Buffer(c, c.in_bytes, c.out.size());
  if (!WithinBudget(c)) return;
  OnWritable(c);
}

void Server::Impl::OnWritable(Conn& c) {
  while (c.out_done < c.out.size()) {
    long n = WriteSome(c, c.out.data() + c.out_done, c.out.size() - c.out_done);
    if (n == -1) {
      Watch(c, EPOLLOUT | EPOLLRDHUP);
      return;
    }
    if (n < 0) {
      Close(c.id, nullptr);
      return;
    }
    c.out_done += static_cast<std::size_t>(n);
  }
  FinishWrite(c);
}

void Server::Impl::FinishWrite(Conn& c) {
  if (c.close_after_write || c.peer_gone) {
    Close(c.id, nullptr);
    return;
  }
  c.out.clear();
  c.out.shrink_to_fit();
  Buffer(c, c.in_bytes, 0);
  c.cancelled.reset();
  c.state = State::kReading;
  c.since = SteadyClock::now();
  c.deadline = c.since + options_.idle_timeout;
  c.timeout_reason = kIdleTimeout;
  if (!c.in.empty()) {
    c.deadline = c.since + options_.header_timeout;  // a pipelined request is under way
    c.timeout_reason = kHeaderTimeout;
  }
  Watch(c, EPOLLIN | EPOLLRDHUP);
  if (c.ssl != nullptr) {
    OnReadable(c);  // TLS may hold decrypted bytes epoll cannot see
  } else {
    Process(c);
  }
}

void Server::Impl::Sweep(TimePoint now) {
  std::vector<std::pair<std::uint64_t, Reason>> expired;
  for (const auto& [id, c] : conns_) {
    if (c->state != State::kInService && now >= c->deadline) {
      expired.emplace_back(id, c->timeout_reason);
    }
  }
  for (auto& [id, reason] : expired) {
    // An idle keep-alive connection closing is normal, not a rejection.
    Close(id, reason == kIdleTimeout ? nullptr : &reason);
  }
}

void Server::Impl::DrainCompletions() {
  std::vector<Completion> done;
  {
    MutexLock lock(done_mu_);
    done.swap(done_);
  }
  for (Completion& d : done) {
    auto it = conns_.find(d.conn_id);
    if (it == conns_.end()) continue;  // closed meanwhile
    Conn& c = *it->second;
    if (c.peer_gone) Watch(c, EPOLLOUT | EPOLLRDHUP);
    StartWrite(c, std::move(d.bytes), d.close);
  }
}

void Server::Impl::Work(LanePool& pool) {
  while (true) {
    Job job;
    {
      MutexLock lock(pool.mu);
      pool.cv.Wait(lock, [&]() REQUIRES(pool.mu) { return pool.stop || !pool.queue.empty(); });
      if (pool.stop) return;
      job = std::move(pool.queue.front());
      pool.queue.pop_front();
    }
    Completion done = Run(job);
    {
      MutexLock lock(done_mu_);
      done_.push_back(std::move(done));
    }
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }
}

Completion Server::Impl::Run(Job& job) {
  Response res;
  // A query whose client went away before it started is not run. Fast-lane handlers are
  // cheap and always run: a client that half-closed after its request still gets the answer.
  const bool skip =
      job.cancelled->load() && job.route != nullptr && job.route->lane == Lane::kQuery;
  if (skip) {
    res.Set(499, "", "");  // nobody is listening; the bytes are dropped
  } else {
    try {
      if (!filter_ || filter_(*job.req, res)) {
        if (job.route != nullptr) {
          job.route->handler(*job.req, res);
        } else if (job.status == 405) {
          res.Set(405, "method not allowed\n", "text/plain; charset=utf-8");
        } else {
          res.Set(404, "not found\n", "text/plain; charset=utf-8");
        }
      }
    } catch (const std::exception& e) {
      LogError("HTTP handler failed", {{"path", job.req->path}, {"err", e.what()}});
      res = Response();
      res.Set(500, "{\"status\":\"error\",\"errorType\":\"internal\",\"error\":\"internal error\"}",
              "application/json");
    } catch (...) {
      res = Response();
      res.Set(500, "{\"status\":\"error\",\"errorType\":\"internal\",\"error\":\"internal error\"}",
              "application/json");
    }
  }
  return Completion{job.conn_id, Serialize(res, job.head_only, job.close), job.close};
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::~Server() { Stop(); }
void Server::Handle(std::string method, std::string path, Lane lane, Handler handler) {
  impl_->Handle(std::move(method), std::move(path), lane, std::move(handler));
}
void Server::SetFilter(Filter filter) { impl_->SetFilter(std::move(filter)); }
Status Server::Listen(const std::string& host, int port) {
  return impl_->Listen(host, port, &port_);
}
void Server::Start() { impl_->Start(); }
void Server::Stop() { impl_->Stop(); }
ServerStats Server::Stats() const { return impl_->Stats(); }

}  // namespace vigil::http
