// ShopConfig: everything `shop serve` is configured with, validated once from flags and
// environment variables (flags win). The option table is declarative (name, env, default,
// help), so --help and parsing cannot drift apart. The PostgreSQL DSN may hold a password: it
// is never logged (ShopConfig::Describe() omits it). Plain data; not thread-safe to mutate.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/base/status.h"
#include "service/db_pool.h"
#include "service/pg_connection.h"
#include "service/redis_cache.h"

namespace vigil::shop {

struct ShopConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;  // 0 picks a free port
  PgConnectOptions pg;
  RedisOptions redis;
  PoolOptions pool;
  std::size_t worker_threads = 32;
  std::size_t max_queued_connections = 512;
  std::size_t keep_alive_max_requests = 10'000;
  double rate_limit_rps = 20'000;  // 0 turns the limiter off
  double rate_limit_burst = 2'000;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t compress_min_bytes = 1024;
  bool instrumentation = true;
  bool admin_endpoints = false;  // POST /api/admin/cache/flush
  bool fault_injection = false;  // POST /api/admin/faults: only with --enable-fault-injection
  std::chrono::milliseconds drain_timeout{3000};
  std::chrono::milliseconds slow_request{200};
  std::chrono::milliseconds slow_query{100};

  ShopConfig();
  // A one-line description for the startup log, without secrets.
  std::string Describe() const;
};

// Parses `args` (flags after the subcommand) over `config`, reading SHOP_* environment
// variables first. InvalidArgument names the offending flag. "--help" yields NotFound with the
// usage text as its message.
Status ParseShopFlags(const std::vector<std::string>& args, ShopConfig* config);

}  // namespace vigil::shop
