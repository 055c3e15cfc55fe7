#include "service/shop_metrics.h"

#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace vigil::shop {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

const Histogram::BucketBoundaries& LatencyBuckets() {
  static const Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBuckets;
}

const Histogram::BucketBoundaries& CacheBuckets() {
  static const Histogram::BucketBoundaries kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                       0.005,  0.01,    0.025,  0.05,  0.1};
  return kBuckets;
}

// Resident set size and thread count of this process, from /proc/self/status.
void ReadProcessStatus(double* rss_bytes, double* threads) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      *rss_bytes = std::strtod(line.c_str() + 6, nullptr) * 1024.0;
    } else if (line.rfind("Threads:", 0) == 0) {
      *threads = std::strtod(line.c_str() + 8, nullptr);
    }
  }
}

}  // namespace

RouteMetrics::RouteMetrics(prometheus::Family<prometheus::Histogram>* family, std::string method,
                           std::string route)
    : family_(family), method_(std::move(method)), route_(std::move(route)) {}

prometheus::Histogram& RouteMetrics::Child(int status) {
  for (std::size_t i = 0; i < kKnownStatuses.size(); ++i) {
    if (kKnownStatuses[i] != status) continue;
    prometheus::Histogram* h = known_[i].load(std::memory_order_acquire);
    if (h == nullptr) {
      // Family::Add returns the existing child for equal labels, so a race is harmless.
      h = &family_->Add(
          {{"method", method_}, {"route", route_}, {"status", std::to_string(status)}},
          LatencyBuckets());
      known_[i].store(h, std::memory_order_release);
    }
    return *h;
  }
  return family_->Add({{"method", method_}, {"route", route_}, {"status", std::to_string(status)}},
                      LatencyBuckets());
}

void RouteMetrics::Observe(int status, double seconds) { Child(status).Observe(seconds); }

ShopMetrics::ShopMetrics(bool enabled)
    : enabled_(enabled), registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  http_duration_ = &BuildHistogram()
                        .Name("http_request_duration_seconds")
                        .Help("HTTP request latency by method, route template and status.")
                        .Register(r);
  in_flight_ = &BuildGauge()
                    .Name("http_requests_in_flight")
                    .Help("HTTP requests being handled.")
                    .Register(r)
                    .Add({});

  auto& query = BuildHistogram()
                    .Name("db_query_duration_seconds")
                    .Help("PostgreSQL statement latency by operation and main table.")
                    .Register(r);
  auto& query_errors = BuildCounter()
                           .Name("db_query_errors_total")
                           .Help("PostgreSQL statements that failed, by operation and table.")
                           .Register(r);
  for (int i = 0; i < kStatementCount; ++i) {
    const Statement& s = GetStatement(static_cast<StatementId>(i));
    query_duration_[i] =
        &query.Add({{"operation", s.operation}, {"table", s.table}}, LatencyBuckets());
    query_errors_[i] = &query_errors.Add({{"operation", s.operation}, {"table", s.table}});
  }

  const prometheus::Labels pool_label = {{"pool_name", "main"}};
  auto& count = BuildGauge()
                    .Name("db_client_connection_count")
                    .Help("Connections in the pool by state (idle, used).")
                    .Register(r);
  pool_idle_ = &count.Add({{"pool_name", "main"}, {"state", "idle"}});
  pool_used_ = &count.Add({{"pool_name", "main"}, {"state", "used"}});
  pool_max_ = &BuildGauge()
                   .Name("db_client_connection_max")
                   .Help("Maximum connections the pool may open.")
                   .Register(r)
                   .Add(pool_label);
  pool_pending_ = &BuildGauge()
                       .Name("db_client_connection_pending_requests")
                       .Help("Callers waiting for a connection.")
                       .Register(r)
                       .Add(pool_label);
  pool_timeouts_ = &BuildCounter()
                        .Name("db_client_connection_timeouts_total")
                        .Help("Acquires that gave up after the acquire timeout.")
                        .Register(r)
                        .Add(pool_label);
  pool_created_ = &BuildCounter()
                       .Name("db_client_connection_created_total")
                       .Help("Connections opened.")
                       .Register(r)
                       .Add(pool_label);
  auto& closed = BuildCounter()
                     .Name("db_client_connection_closed_total")
                     .Help("Connections closed, by reason.")
                     .Register(r);
  for (int i = 0; i < kCloseReasonCount; ++i) {
    pool_closed_[i] = &closed.Add(
        {{"pool_name", "main"}, {"reason", CloseReasonName(static_cast<CloseReason>(i))}});
  }
  pool_wait_ = &BuildHistogram()
                    .Name("db_client_connection_wait_time_seconds")
                    .Help("Time to obtain a connection from the pool.")
                    .Register(r)
                    .Add(pool_label, LatencyBuckets());
  pool_use_ = &BuildHistogram()
                   .Name("db_client_connection_use_time_seconds")
                   .Help("Time between borrowing a connection and returning it.")
                   .Register(r)
                   .Add(pool_label, LatencyBuckets());

  auto& cache = BuildCounter()
                    .Name("cache_requests_total")
                    .Help("Cache lookups by key group and result (hit, miss, error).")
                    .Register(r);
  const char* results[] = {"hit", "miss", "error"};
  for (int g = 0; g < kCacheGroupCount; ++g) {
    for (int k = 0; k < 3; ++k) {
      cache_requests_[g][k] = &cache.Add(
          {{"group", CacheGroupName(static_cast<CacheGroup>(g))}, {"result", results[k]}});
    }
  }
  auto& cache_ops = BuildHistogram()
                        .Name("cache_operation_duration_seconds")
                        .Help("Redis round-trip time by operation.")
                        .Register(r);
  cache_get_ = &cache_ops.Add({{"operation", "get"}}, CacheBuckets());
  cache_set_ = &cache_ops.Add({{"operation", "set"}}, CacheBuckets());
  cache_delete_ = &cache_ops.Add({{"operation", "delete"}}, CacheBuckets());
  cache_other_ = &cache_ops.Add({{"operation", "other"}}, CacheBuckets());

  workers_busy_ = &BuildGauge()
                       .Name("http_server_worker_threads_busy")
                       .Help("Worker threads serving a connection.")
                       .Register(r)
                       .Add({});
  workers_max_ = &BuildGauge()
                      .Name("http_server_worker_threads_max")
                      .Help("Worker threads in the pool (the limit).")
                      .Register(r)
                      .Add({});
  queue_length_ = &BuildGauge()
                       .Name("http_server_queued_connections")
                       .Help("Accepted connections waiting for a worker.")
                       .Register(r)
                       .Add({});
  queue_max_ = &BuildGauge()
                    .Name("http_server_queued_connections_max")
                    .Help("Limit of queued connections before accepting pauses.")
                    .Register(r)
                    .Add({});
  rss_bytes_ = &BuildGauge()
                    .Name("process_resident_memory_bytes")
                    .Help("Resident memory size in bytes.")
                    .Register(r)
                    .Add({});
  threads_ = &BuildGauge()
                  .Name("process_threads")
                  .Help("Threads in the shop process.")
                  .Register(r)
                  .Add({});
  instrumentation_ = &BuildGauge()
                          .Name("shop_instrumentation_enabled")
                          .Help("1 when request, query, pool and cache metrics are recorded.")
                          .Register(r)
                          .Add({});
  instrumentation_->Set(enabled_ ? 1 : 0);
  leaked_bytes_ = &BuildGauge()
                       .Name("shop_fault_leaked_bytes")
                       .Help("Memory leaked on purpose by POST /api/admin/faults.")
                       .Register(r)
                       .Add({});
  leaked_threads_ = &BuildGauge()
                         .Name("shop_fault_leaked_threads")
                         .Help("Threads leaked on purpose by POST /api/admin/faults.")
                         .Register(r)
                         .Add({});
}

RouteMetrics* ShopMetrics::Route(const std::string& method, const std::string& route) {
  std::lock_guard<std::mutex> lock(routes_mu_);
  routes_.push_back(std::make_unique<RouteMetrics>(http_duration_, method, route));
  return routes_.back().get();
}

void ShopMetrics::RequestStarted() {
  if (enabled_) in_flight_->Increment();
}
void ShopMetrics::RequestFinished() {
  if (enabled_) in_flight_->Decrement();
}

void ShopMetrics::OnWait(double seconds) {
  if (enabled_) pool_wait_->Observe(seconds);
}
void ShopMetrics::OnUse(double seconds) {
  if (enabled_) pool_use_->Observe(seconds);
}
void ShopMetrics::OnTimeout() { pool_timeouts_->Increment(); }
void ShopMetrics::OnCreated() { pool_created_->Increment(); }
void ShopMetrics::OnClosed(CloseReason reason) {
  pool_closed_[static_cast<int>(reason)]->Increment();
}

void ShopMetrics::OnLookup(CacheGroup group, CacheResult result) {
  if (enabled_) cache_requests_[static_cast<int>(group)][static_cast<int>(result)]->Increment();
}

void ShopMetrics::OnCommand(const char* operation, double seconds) {
  if (!enabled_) return;
  prometheus::Histogram* h = cache_other_;
  if (operation[0] == 'g') {
    h = cache_get_;
  } else if (operation[0] == 's') {
    h = cache_set_;
  } else if (operation[0] == 'd') {
    h = cache_delete_;
  }
  h->Observe(seconds);
}

void ShopMetrics::OnQuery(const Statement& statement, double seconds, bool ok) {
  if (!enabled_) return;
  query_duration_[statement.id]->Observe(seconds);
  if (!ok) query_errors_[statement.id]->Increment();
}

std::string ShopMetrics::Scrape(const PoolStats& pool, const WorkerStats& workers,
                                const LeakState& leak) {
  pool_idle_->Set(static_cast<double>(pool.idle));
  pool_used_->Set(static_cast<double>(pool.used));
  pool_max_->Set(static_cast<double>(pool.max));
  pool_pending_->Set(static_cast<double>(pool.pending));
  workers_busy_->Set(static_cast<double>(workers.busy.load()));
  workers_max_->Set(static_cast<double>(workers.threads.load()));
  queue_length_->Set(static_cast<double>(workers.queued.load()));
  queue_max_->Set(static_cast<double>(workers.max_queued.load()));
  double rss = 0, threads = 0;
  ReadProcessStatus(&rss, &threads);
  rss_bytes_->Set(rss);
  threads_->Set(threads);
  leaked_bytes_->Set(static_cast<double>(leak.leaked_mib) *
                     static_cast<double>(Leaker::kChunkBytes));
  leaked_threads_->Set(static_cast<double>(leak.leaked_threads));
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace vigil::shop
