// ShopApi: the request handlers of shop's JSON API (products, users, orders), over the
// connection pool and the Redis cache.
//
// Each handler validates its input strictly (400 naming the field), reads through the cache
// where the key group allows (cache-aside: miss -> PostgreSQL -> fill), invalidates on writes,
// and maps failures to JSON errors: 404 not found, 409 conflicts, 503 when the pool is
// exhausted or PostgreSQL is unreachable, 500 otherwise. Handlers never throw. A failed query
// on a connection that broke is retried once on a fresh connection (reads only).
//
// Thread-safe: handlers run concurrently on the server's workers.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/status.h"
#include "service/db_pool.h"
#include "service/redis_cache.h"

namespace vigil::shop {

struct ApiResponse {
  int status = 200;
  std::string body;        // JSON
  long retry_after_s = 0;  // > 0 adds a Retry-After header (429, 503)
};

// {"error":{"code":..., "message":..., "field":...}}; field omitted when empty.
ApiResponse JsonError(int status, std::string_view code, std::string_view message,
                      std::string_view field = "");
// Maps an error Status from the data layer to its HTTP answer.
ApiResponse ErrorFromStatus(const Status& status);

class ShopApi {
 public:
  // `pool` and `cache` must outlive the API.
  ShopApi(ConnectionPool& pool, RedisCache& cache) : pool_(pool), cache_(cache) {}

  ApiResponse GetProduct(const httplib::Request& req);
  ApiResponse ListProducts(const httplib::Request& req);
  ApiResponse SearchProducts(const httplib::Request& req);
  ApiResponse ProductSales(const httplib::Request& req);
  ApiResponse CreateProduct(const httplib::Request& req);
  ApiResponse UpdateProduct(const httplib::Request& req);
  ApiResponse CreateUser(const httplib::Request& req);
  ApiResponse GetUser(const httplib::Request& req);
  ApiResponse ListUserOrders(const httplib::Request& req);
  ApiResponse CreateOrder(const httplib::Request& req);
  ApiResponse GetOrder(const httplib::Request& req);
  // 200 when PostgreSQL answers within `timeout`, else 503.
  ApiResponse Ready(std::chrono::milliseconds timeout);

 private:
  ConnectionPool& pool_;
  RedisCache& cache_;
};

}  // namespace vigil::shop
