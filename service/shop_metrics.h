// ShopMetrics: shop's Prometheus instrumentation (prometheus-cpp core; served as text by the
// shop's own HTTP server).
//
// Every series the hot path touches is looked up once: per-statement query histograms at
// construction, per (route, status) request histograms on first use (kept in atomic slots),
// so a request costs a few atomic increments. Gauges that describe state (pool counts, worker
// threads, RSS, threads, the injected leak) are read at scrape time from their owners. With
// `enabled` false every hot-path method returns at once (the benchmark's "instrumentation off").
//
// Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "service/db_pool.h"
#include "service/leak.h"
#include "service/pg_connection.h"
#include "service/redis_cache.h"
#include "service/statements.h"
#include "service/worker_pool.h"

namespace vigil::shop {

// HTTP statuses shop answers with; others are reported as their own child, looked up slowly.
inline constexpr std::array<int, 12> kKnownStatuses = {200, 201, 400, 404, 405, 409,
                                                       413, 415, 429, 500, 503, 504};

// One route template ("/api/products/{id}") with its method, and its request histograms.
class RouteMetrics {
 public:
  RouteMetrics(prometheus::Family<prometheus::Histogram>* family, std::string method,
               std::string route);
  void Observe(int status, double seconds);

 private:
  prometheus::Histogram& Child(int status);
  prometheus::Family<prometheus::Histogram>* family_;
  const std::string method_;
  const std::string route_;
  std::array<std::atomic<prometheus::Histogram*>, kKnownStatuses.size()> known_{};
};

class ShopMetrics final : public PoolObserver, public CacheObserver, public QueryObserver {
 public:
  explicit ShopMetrics(bool enabled);

  bool enabled() const { return enabled_; }
  // Returns the metrics of one route; the pointer lives as long as this object.
  RouteMetrics* Route(const std::string& method, const std::string& route);
  void RequestStarted();
  void RequestFinished();

  // PoolObserver
  void OnWait(double seconds) override;
  void OnUse(double seconds) override;
  void OnTimeout() override;
  void OnCreated() override;
  void OnClosed(CloseReason reason) override;
  // CacheObserver
  void OnLookup(CacheGroup group, CacheResult result) override;
  void OnCommand(const char* operation, double seconds) override;
  // QueryObserver
  void OnQuery(const Statement& statement, double seconds, bool ok) override;

  // Refreshes the state gauges and returns the text exposition.
  std::string Scrape(const PoolStats& pool, const WorkerStats& workers, const LeakState& leak);

 private:
  const bool enabled_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>* http_duration_;
  prometheus::Gauge* in_flight_;
  std::vector<std::unique_ptr<RouteMetrics>> routes_;
  std::mutex routes_mu_;

  std::array<prometheus::Histogram*, kStatementCount> query_duration_{};
  std::array<prometheus::Counter*, kStatementCount> query_errors_{};

  prometheus::Gauge* pool_idle_;
  prometheus::Gauge* pool_used_;
  prometheus::Gauge* pool_max_;
  prometheus::Gauge* pool_pending_;
  prometheus::Counter* pool_timeouts_;
  prometheus::Counter* pool_created_;
  std::array<prometheus::Counter*, kCloseReasonCount> pool_closed_{};
  prometheus::Histogram* pool_wait_;
  prometheus::Histogram* pool_use_;

  std::array<std::array<prometheus::Counter*, 3>, kCacheGroupCount> cache_requests_{};
  prometheus::Histogram* cache_get_;
  prometheus::Histogram* cache_set_;
  prometheus::Histogram* cache_delete_;
  prometheus::Histogram* cache_other_;

  prometheus::Gauge* workers_busy_;
  prometheus::Gauge* workers_max_;
  prometheus::Gauge* queue_length_;
  prometheus::Gauge* queue_max_;
  prometheus::Gauge* rss_bytes_;
  prometheus::Gauge* threads_;
  prometheus::Gauge* instrumentation_;
  prometheus::Gauge* leaked_bytes_;
  prometheus::Gauge* leaked_threads_;
};

}  // namespace vigil::shop
