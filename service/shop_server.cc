#include "service/shop_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "agent/base/listen_backlog.h"
#include "agent/base/log.h"
#include "service/pg_connection.h"
#include "service/validation.h"

namespace vigil::shop {
namespace {

std::int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Per-worker request context: set by the pre-routing handler and the route wrapper, read by
// the logger after the response is written (all on the same worker thread).
thread_local std::int64_t tl_start_ns = 0;
thread_local RouteMetrics* tl_route = nullptr;
thread_local const char* tl_route_name = nullptr;

// JSON bodies only (media type application/json, parameters allowed): an HTML form on another
// site can send only urlencoded, multipart or text/plain bodies without a CORS preflight.
std::optional<ApiResponse> RequireJson(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (type == "application/json") return std::nullopt;
  return JsonError(415, "unsupported_media_type", "request bodies must be application/json",
                   "Content-Type");
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace

ShopServer::ShopServer(ShopConfig config)
    : config_(std::move(config)), metrics_(config_.instrumentation) {
  PgConnectOptions pg = config_.pg;
  QueryObserver* query_observer = &metrics_;
  pool_ = std::make_unique<ConnectionPool>(
      config_.pool,
      [pg, query_observer]() -> Result<std::unique_ptr<PoolConnection>> {
        Result<std::unique_ptr<PgConnection>> c = PgConnection::Connect(pg, query_observer);
        if (!c.ok()) return c.status();
        return std::unique_ptr<PoolConnection>(std::move(c).value());
      },
      SystemClock::Get(), &metrics_);
  cache_ = std::make_unique<RedisCache>(config_.redis, &metrics_);
  api_ = std::make_unique<ShopApi>(*pool_, *cache_);
  if (config_.rate_limit_rps > 0) {
    limiter_ = std::make_unique<TokenBucket>(config_.rate_limit_rps, config_.rate_limit_burst);
  }
  unmatched_ = metrics_.Route("ANY", "unmatched");
  InstallMiddleware();
  InstallRoutes();
}

ShopServer::~ShopServer() { Stop(); }

void ShopServer::Reply(const httplib::Request& req, httplib::Response& res, ApiResponse out) const {
  (void)req;
  res.status = out.status;
  if (out.retry_after_s > 0) res.set_header("Retry-After", std::to_string(out.retry_after_s));
  // httplib compresses "application/json" bodies for clients that accept gzip (or br); the
  // charset variant is not on its list, so small bodies go out as they are.
  const char* type = out.body.size() >= config_.compress_min_bytes
                         ? "application/json"
                         : "application/json; charset=utf-8";
  res.set_content(std::move(out.body), type);
}

void ShopServer::Route(const char* method, const char* pattern, const char* route,
                       Handler handler) {
  RouteMetrics* metrics = metrics_.Route(method, route);
  auto wrapped = [this, metrics, route, handler](const httplib::Request& req,
                                                 httplib::Response& res) {
    tl_route = metrics;
    tl_route_name = route;
    if (std::optional<ApiResponse> early = Admit(req)) {
      Reply(req, res, std::move(*early));
      return;
    }
    metrics_.RequestStarted();
    ApiResponse out;
    try {
      out = (api_.get()->*handler)(req);
    } catch (const std::exception& e) {  // defensive: handlers return errors as values
      LogError("handler threw", {{"route", route}, {"err", e.what()}});
      out = JsonError(500, "internal", "internal error");
    }
    metrics_.RequestFinished();
    Reply(req, res, std::move(out));
  };
  const std::string m = method;
  if (m == "GET") {
    http_.Get(pattern, wrapped);
  } else if (m == "POST") {
    http_.Post(pattern, wrapped);
  } else if (m == "PATCH") {
    http_.Patch(pattern, wrapped);
  }
}

std::optional<ApiResponse> ShopServer::Admit(const httplib::Request& req) {
  if (limiter_ != nullptr) {
    double retry_after = 0;
    if (!limiter_->TryTake(SteadyNanos(), &retry_after)) {
      ApiResponse out = JsonError(429, "rate_limited", "too many requests; retry later");
      out.retry_after_s = std::max<long>(1, std::lround(std::ceil(retry_after)));
      return out;
    }
  }
  if (req.method == "POST" || req.method == "PATCH" || req.method == "PUT") {
    if (std::optional<ApiResponse> refused = RequireJson(req)) return refused;
  }
  const int fault = fault_percent_.load(std::memory_order_relaxed);
  if (fault > 0) {
    thread_local std::minstd_rand rng(std::random_device{}());
    if (static_cast<int>(rng() % 100) < fault) {
      return JsonError(500, "injected_fault", "fault injected by /api/admin/faults");
    }
  }
  return std::nullopt;
}

void ShopServer::InstallMiddleware() {
  http_.set_tcp_nodelay(true);
  http_.set_payload_max_length(config_.max_body_bytes);
  http_.set_keep_alive_max_count(config_.keep_alive_max_requests);
  http_.set_keep_alive_timeout(5);
  http_.set_read_timeout(5, 0);
  http_.set_write_timeout(5, 0);
  const std::size_t threads = config_.worker_threads;
  const std::size_t queued = config_.max_queued_connections;
  WorkerStats* stats = &worker_stats_;
  http_.new_task_queue = [threads, queued, stats] {
    return new WorkerPool(threads, queued, stats);
  };

  http_.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    tl_start_ns = SteadyNanos();
    tl_route = nullptr;
    tl_route_name = nullptr;
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Every 4xx/5xx that httplib produced itself (no route, 413, bad request line) gets a JSON
  // body too.
  http_.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                      httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ApiResponse out;
    switch (res.status) {
      case 404:
        out = JsonError(404, "not_found", "no such route");
        break;
      case 413:
        out =
            JsonError(413, "payload_too_large",
                      "request body exceeds " + std::to_string(config_.max_body_bytes) + " bytes");
        break;
      default:
        out = JsonError(res.status, "http_error",
                        "the request failed with HTTP status " + std::to_string(res.status));
    }
    Reply(req, res, std::move(out));
    return httplib::Server::HandlerResponse::Handled;
  }));

  http_.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        Reply(req, res, JsonError(500, "internal", "internal error"));
      });

  // Runs after the response is written, on the worker thread: latency and the slow log.
  http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const std::int64_t start = tl_start_ns;
    tl_start_ns = 0;
    if (start == 0) return;
    const double seconds = static_cast<double>(SteadyNanos() - start) / 1e9;
    RouteMetrics* route = tl_route != nullptr ? tl_route : unmatched_;
    if (metrics_.enabled()) route->Observe(res.status, seconds);
    if (seconds * 1000 >= static_cast<double>(config_.slow_request.count())) {
      LogWarn("slow request",
              {{"method", req.method},
               {"route", tl_route_name != nullptr ? tl_route_name : "unmatched"},
               {"status", std::to_string(res.status)},
               {"duration_ms", std::to_string(static_cast<std::int64_t>(seconds * 1000))}});
    }
  });
}

void ShopServer::InstallRoutes() {
  Route("GET", R"(/api/products)", "/api/products", &ShopApi::ListProducts);
  Route("GET", R"(/api/products/search)", "/api/products/search", &ShopApi::SearchProducts);
  Route("GET", R"(/api/products/([^/]+))", "/api/products/{id}", &ShopApi::GetProduct);
  Route("GET", R"(/api/products/([^/]+)/sales)", "/api/products/{id}/sales",
        &ShopApi::ProductSales);
  Route("POST", R"(/api/products)", "/api/products", &ShopApi::CreateProduct);
  Route("PATCH", R"(/api/products/([^/]+))", "/api/products/{id}", &ShopApi::UpdateProduct);
  Route("POST", R"(/api/users)", "/api/users", &ShopApi::CreateUser);
  Route("GET", R"(/api/users/([^/]+))", "/api/users/{id}", &ShopApi::GetUser);
  Route("GET", R"(/api/users/([^/]+)/orders)", "/api/users/{id}/orders", &ShopApi::ListUserOrders);
  Route("POST", R"(/api/orders)", "/api/orders", &ShopApi::CreateOrder);
  Route("GET", R"(/api/orders/([^/]+))", "/api/orders/{id}", &ShopApi::GetOrder);

  RouteMetrics* health_metrics = metrics_.Route("GET", "/healthz");
  http_.Get("/healthz",
            [this, health_metrics](const httplib::Request& req, httplib::Response& res) {
              tl_route = health_metrics;
              tl_route_name = "/healthz";
              Reply(req, res, {200, R"({"status":"ok"})"});
            });
  RouteMetrics* ready_metrics = metrics_.Route("GET", "/readyz");
  http_.Get("/readyz", [this, ready_metrics](const httplib::Request& req, httplib::Response& res) {
    tl_route = ready_metrics;
    tl_route_name = "/readyz";
    if (draining_.load()) {
      Reply(req, res, JsonError(503, "draining", "shutting down"));
      return;
    }
    Reply(req, res, api_->Ready(std::chrono::milliseconds(500)));
  });
  RouteMetrics* metrics_metrics = metrics_.Route("GET", "/metrics");
  http_.Get("/metrics", [this, metrics_metrics](const httplib::Request&, httplib::Response& res) {
    tl_route = metrics_metrics;
    tl_route_name = "/metrics";
    res.set_content(metrics_.Scrape(pool_->Stats(), worker_stats_, leaker_.Snapshot()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });

  // Admin routes are mutating: JSON only (a cross-site HTML form cannot send it), each behind
  // its own flag.
  if (config_.admin_endpoints) {
    http_.Post("/api/admin/cache/flush",
               [this](const httplib::Request& req, httplib::Response& res) {
                 if (std::optional<ApiResponse> refused = RequireJson(req)) {
                   Reply(req, res, std::move(*refused));
                   return;
                 }
                 Status st = cache_->Flush();
                 LogInfo("cache flushed by admin request", {{"ok", st.ok() ? "true" : "false"}});
                 Reply(req, res,
                       st.ok() ? ApiResponse{200, R"({"flushed":true})"}
                               : JsonError(503, "cache_unavailable", st.message()));
               });
  }
  if (config_.fault_injection) {
    http_.Post("/api/admin/faults", [this](const httplib::Request& req, httplib::Response& res) {
      std::optional<ApiResponse> refused = RequireJson(req);
      Reply(req, res, refused ? std::move(*refused) : SetFaults(req));
    });
  }
}

ApiResponse ShopServer::SetFaults(const httplib::Request& req) {
  FieldError err;
  auto doc = ParseJsonObject(req.body, &err);
  if (!doc) return JsonError(400, "invalid_field", err.message, err.field);
  ObjectValidator v(*doc);
  auto percent = v.Int("error_percent", false, 0, 100);
  auto mib_rate = v.Int("leak_mib_per_minute", false, 0, 1024);
  auto thread_rate = v.Int("leak_threads_per_minute", false, 0, 6000);
  auto mib = v.Int("leak_mib", false, 0, 4096);
  auto threads = v.Int("leak_threads", false, 0, 20000);
  auto release = v.Bool("release_leak", false);
  v.RejectUnknownFields();
  if (v.ok() && !v.any_present()) {
    v.Fail("body",
           "must set at least one of error_percent, leak_mib_per_minute, "
           "leak_threads_per_minute, leak_mib, leak_threads, release_leak");
  }
  if (!v.ok()) return JsonError(400, "invalid_field", v.error().message, v.error().field);

  if (percent) fault_percent_ = static_cast<int>(*percent);
  if (release.value_or(false)) leaker_.Release();  // first, so one body can release and leak
  leaker_.SetRates(mib_rate, thread_rate);
  if (mib) leaker_.LeakMib(*mib);
  if (threads) leaker_.LeakThreads(*threads);
  const LeakState leak = leaker_.Snapshot();
  const int fault = fault_percent_.load();
  LogWarn("fault injection set",
          {{"error_percent", std::to_string(fault)},
           {"leak_mib_per_minute", std::to_string(leak.mib_per_minute)},
           {"leak_threads_per_minute", std::to_string(leak.threads_per_minute)},
           {"leaked_mib", std::to_string(leak.leaked_mib)},
           {"leaked_threads", std::to_string(leak.leaked_threads)}});
  return {200, nlohmann::json{{"error_percent", fault},
                              {"leak_mib_per_minute", leak.mib_per_minute},
                              {"leak_threads_per_minute", leak.threads_per_minute},
                              {"leaked_mib", leak.leaked_mib},
                              {"leaked_threads", leak.leaked_threads}}
                   .dump()};
}

Status ShopServer::Start() {
  LogInfo("shop starting", {{"config", config_.Describe()}});
  Status pool_status = pool_->Start();
  if (!pool_status.ok()) {
    LogWarn("postgres not reachable at start; will retry", {{"err", pool_status.message()}});
  }
  if (config_.listen_port == 0) {
    port_ = http_.bind_to_any_port(config_.listen_host);
  } else if (http_.bind_to_port(config_.listen_host, config_.listen_port)) {
    port_ = config_.listen_port;
  } else {
    port_ = -1;
  }
  if (port_ <= 0) {
    return Status::Unavailable("cannot listen on " + config_.listen_host + ":" +
                               std::to_string(config_.listen_port));
  }
  RaiseListenBacklog(port_);
  listener_ = std::thread([this] { http_.listen_after_bind(); });
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
  for (int i = 0; i < 500 && !http_.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  LogInfo("shop listening", {{"address", config_.listen_host + ":" + std::to_string(port_)}});
  if (config_.fault_injection && !IsLoopbackHost(config_.listen_host)) {
    LogWarn(
        "fault injection is enabled on a non-loopback address: anyone who reaches it can "
        "make shop fail and leak",
        {{"address", config_.listen_host + ":" + std::to_string(port_)}});
  }
  return Status::Ok();
}

void ShopServer::MaintenanceLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) break;
    lock.unlock();
    pool_->Maintain();
    lock.lock();
  }
}

void ShopServer::BeginDrain() {
  if (!draining_.exchange(true)) LogInfo("draining: /readyz now answers 503");
}

void ShopServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  draining_ = true;
  http_.stop();
  if (listener_.joinable()) listener_.join();
  if (maintenance_.joinable()) maintenance_.join();
  leaker_.Release();
}

}  // namespace vigil::shop
