// The shop load generator's engine: runs a named scenario against a shop server over
// keep-alive connections and reports latency quantiles, status counts and, read from shop's
// own /metrics, the signal each scenario is meant to move (cache hit ratio, pool timeouts and
// pending requests, 5xx ratio).
//
// A scenario is a list of phases (share of the duration, rate multiplier, request mix, an
// optional admin call at its start). With a target rate the load is open-loop and latency is
// measured from each request's scheduled time, so a slow server shows queueing instead of
// hiding it; with rate 0 it is a closed loop. Every run is bounded by its duration (and
// optionally a request count). RunLoad() is thread-safe to call; it owns its threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "agent/base/status.h"

namespace vigil::shop {

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string scenario = "steady";
  std::chrono::milliseconds duration{60'000};
  int concurrency = 16;  // connections (and worker threads); keep below shop's --workers
  double rate = 200;     // requests per second at 1x; 0 = closed loop
  std::int64_t products = 100'000;
  std::int64_t users = 10'000;
  std::int64_t hot_products = 2'000;  // the popular catalog most reads go to
  std::int64_t hot_users = 500;
  std::int64_t max_requests = 0;  // 0 = bounded by duration only
  std::uint64_t seed = 1;
  bool scrape_metrics = true;  // read shop's /metrics each second
};

struct PhaseReport {
  std::string name;
  double seconds = 0;
  std::uint64_t requests = 0;
  std::uint64_t transport_errors = 0;  // no HTTP response
  std::uint64_t status_2xx = 0;
  std::uint64_t status_4xx = 0;  // excluding 429
  std::uint64_t status_429 = 0;
  std::uint64_t status_5xx = 0;
  double rps = 0;
  double p50 = 0, p95 = 0, p99 = 0, max = 0;  // seconds
  // From shop's /metrics over the phase; negative when unavailable.
  double cache_hit_ratio = -1;
  double pool_timeouts = -1;
  double pool_pending_max = -1;
  double error_ratio() const;  // (5xx + transport errors) / requests
};

struct LoadReport {
  std::string scenario;
  std::vector<PhaseReport> phases;
  PhaseReport total;
};

// The scenario names RunLoad() accepts.
const std::vector<std::string>& ScenarioNames();
// One line per scenario: what it does and which metric it moves.
std::string ScenarioHelp();

// `progress` (may be null) receives one line per second.
Result<LoadReport> RunLoad(const LoadOptions& options, std::ostream* progress);

std::string ReportJson(const LoadReport& report);
std::string ReportText(const LoadReport& report);

}  // namespace vigil::shop
