// RedisCache: shop's cache-aside store on Redis, with a TTL per key group.
//
// Keys are "<prefix>:<group>:<key>" (prefix "shop" unless configured). Every lookup is reported to
// the CacheObserver as a hit, a miss or an error, per group. When Redis is unreachable, calls fail
// fast (an error counts as a miss and callers read PostgreSQL), and reconnection is attempted again
// after `retry_interval`, so the service keeps answering and recovers without a restart.
// Connections are pooled (up to `max_connections` idle ones kept); every command has a timeout.
//
// Thread-safe.
#pragma once

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"

namespace vigil::shop {

enum class CacheGroup { kProduct = 0, kUser, kUserOrders, kSearch };
inline constexpr int kCacheGroupCount = 4;
// "product", "user", "user_orders", "search".
const char* CacheGroupName(CacheGroup group);

enum class CacheResult { kHit = 0, kMiss, kError };

class CacheObserver {
 public:
  virtual ~CacheObserver() = default;
  virtual void OnLookup(CacheGroup group, CacheResult result) = 0;
  // Duration of one Redis round trip ("get", "set", "delete").
  virtual void OnCommand(const char* operation, double seconds) = 0;
};

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string key_prefix = "shop";  // keys are "<prefix>:<group>:<key>"
  std::chrono::milliseconds timeout{200};
  std::chrono::milliseconds retry_interval{1000};
  std::size_t max_connections = 16;
  std::chrono::seconds ttl[kCacheGroupCount] = {std::chrono::seconds(300),
                                                std::chrono::seconds(300), std::chrono::seconds(60),
                                                std::chrono::seconds(30)};
};

class RedisCache {
 public:
  RedisCache(RedisOptions options, CacheObserver* observer);
  ~RedisCache();
  RedisCache(const RedisCache&) = delete;
  RedisCache& operator=(const RedisCache&) = delete;

  // The cached value, or nullopt on a miss or when Redis is unavailable.
  std::optional<std::string> Get(CacheGroup group, std::string_view key);
  // Stores with the group's TTL; failures are logged once per outage and otherwise ignored.
  void Set(CacheGroup group, std::string_view key, std::string_view value);
  // Hash variants: one key per entity holding several variants (e.g. pages of a listing), so
  // one Delete invalidates all of them.
  std::optional<std::string> HGet(CacheGroup group, std::string_view key, std::string_view field);
  void HSet(CacheGroup group, std::string_view key, std::string_view field, std::string_view value);
  // Invalidation on writes. Returns the error when Redis could not be reached.
  Status Delete(CacheGroup group, std::string_view key);
  // Deletes every key with this cache's prefix (the cache-flush scenario's admin endpoint).
  Status Flush();
  // PING; true when Redis answered.
  bool Ping();
  // False while in a Redis outage (between a failure and the next successful reconnect).
  bool available() const { return available_.load(std::memory_order_relaxed); }

 private:
  redisContext* Acquire();
  void Release(redisContext* ctx, bool ok);
  // Runs one command; nullptr on failure (the context is discarded).
  redisReply* Command(const char* operation, const std::vector<std::string_view>& args);
  std::string Key(CacheGroup group, std::string_view key) const;

  const RedisOptions options_;
  CacheObserver* const observer_;
  std::atomic<bool> available_{true};
  std::mutex mu_;
  std::vector<redisContext*> idle_;                    // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point retry_after_;  // GUARDED_BY(mu_)
};

}  // namespace vigil::shop
