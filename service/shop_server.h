// ShopServer: shop's HTTP server: routes, middleware (rate limit, body limit, JSON errors,
// compression, metrics), /healthz, /readyz, /metrics, and the lifecycle (start, drain, stop).
//
// It owns the connection pool, the Redis cache and the metrics, and runs two threads besides
// the workers: the listener and a maintenance loop (pool upkeep every second). Start() binds
// and returns once the server accepts connections; BeginDrain() makes /readyz answer 503 so
// load balancers stop sending; Stop() closes the listener and lets in-flight requests finish.
//
// With admin endpoints, POST /api/admin/faults injects HTTP 500s and a memory/thread leak
// (Leaker); Stop() releases the leak.
//
// Thread-safe: Start/Stop from one controlling thread; the rest from any thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "agent/base/clock.h"
#include "agent/base/status.h"
#include "service/db_pool.h"
#include "service/leak.h"
#include "service/redis_cache.h"
#include "service/shop_api.h"
#include "service/shop_config.h"
#include "service/shop_metrics.h"
#include "service/token_bucket.h"
#include "service/worker_pool.h"

namespace vigil::shop {

class ShopServer {
 public:
  explicit ShopServer(ShopConfig config);
  ~ShopServer();
  ShopServer(const ShopServer&) = delete;
  ShopServer& operator=(const ShopServer&) = delete;

  // Opens the pool's minimum connections (a failure is logged; readiness reports it), binds
  // and starts serving. Fails when the address cannot be bound.
  Status Start();
  // The bound port (useful with listen_port 0).
  int port() const { return port_; }
  void BeginDrain();
  void Stop();

  ConnectionPool& pool() { return *pool_; }
  RedisCache& cache() { return *cache_; }
  const ShopConfig& config() const { return config_; }

 private:
  using Handler = ApiResponse (ShopApi::*)(const httplib::Request&);
  void Route(const char* method, const char* pattern, const char* route, Handler handler);
  void Reply(const httplib::Request& req, httplib::Response& res, ApiResponse out) const;
  // Rate limit, content type and injected faults, checked before a handler runs.
  std::optional<ApiResponse> Admit(const httplib::Request& req);
  void InstallMiddleware();
  void InstallRoutes();
  void MaintenanceLoop();
  // POST /api/admin/faults: validates the body, applies it and answers the fault state.
  ApiResponse SetFaults(const httplib::Request& req);

  const ShopConfig config_;
  ShopMetrics metrics_;
  std::unique_ptr<ConnectionPool> pool_;
  std::unique_ptr<RedisCache> cache_;
  std::unique_ptr<ShopApi> api_;
  std::unique_ptr<TokenBucket> limiter_;
  WorkerStats worker_stats_;
  httplib::Server http_;
  int port_ = 0;
  std::thread listener_;
  std::thread maintenance_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::atomic<bool> draining_{false};
  std::atomic<int> fault_percent_{0};
  Leaker leaker_;
  RouteMetrics* unmatched_ = nullptr;
};

}  // namespace vigil::shop
