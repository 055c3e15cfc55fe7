#include "service/redis_cache.h"

#include <sys/time.h>

#include "agent/base/log.h"

namespace vigil::shop {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

const char* CacheGroupName(CacheGroup group) {
  switch (group) {
    case CacheGroup::kProduct:
      return "product";
    case CacheGroup::kUser:
      return "user";
    case CacheGroup::kUserOrders:
      return "user_orders";
    case CacheGroup::kSearch:
      return "search";
  }
  return "unknown";
}

RedisCache::RedisCache(RedisOptions options, CacheObserver* observer)
    : options_(std::move(options)), observer_(observer) {}

RedisCache::~RedisCache() {
  for (redisContext* ctx : idle_) redisFree(ctx);
}

std::string RedisCache::Key(CacheGroup group, std::string_view key) const {
  std::string k = options_.key_prefix;
  k += ':';
  k += CacheGroupName(group);
  k += ':';
  k += key;
  return k;
}

redisContext* RedisCache::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      redisContext* ctx = idle_.back();
      idle_.pop_back();
      return ctx;
    }
    if (!available_.load()) {
      // While Redis is down, one request per retry interval probes it; the others go
      // straight to PostgreSQL instead of each opening a connection to a dead server.
      const auto now = std::chrono::steady_clock::now();
      if (now < retry_after_) return nullptr;
      retry_after_ = now + options_.retry_interval;
    }
  }
  redisContext* ctx =
      redisConnectWithTimeout(options_.host.c_str(), options_.port, ToTimeval(options_.timeout));
  if (ctx == nullptr || ctx->err != 0) {
    const std::string why = ctx != nullptr ? ctx->errstr : "out of memory";
    if (ctx != nullptr) redisFree(ctx);
    std::lock_guard<std::mutex> lock(mu_);
    retry_after_ = std::chrono::steady_clock::now() + options_.retry_interval;
    if (available_.exchange(false)) {
      LogWarn("redis unavailable; serving from PostgreSQL",
              {{"address", options_.host + ":" + std::to_string(options_.port)}, {"err", why}});
    }
    return nullptr;
  }
  redisSetTimeout(ctx, ToTimeval(options_.timeout));
  if (!available_.exchange(true)) {
    LogInfo("redis reachable again",
            {{"address", options_.host + ":" + std::to_string(options_.port)}});
  }
  return ctx;
}

void RedisCache::Release(redisContext* ctx, bool ok) {
  if (ok) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < options_.max_connections) {
      idle_.push_back(ctx);
      return;
    }
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    // Drop every pooled connection too: after an outage they are all dead.
    for (redisContext* c : idle_) redisFree(c);
    idle_.clear();
    retry_after_ = std::chrono::steady_clock::now() + options_.retry_interval;
    if (available_.exchange(false)) {
      LogWarn(
          "redis command failed; serving from PostgreSQL",
          {{"address", options_.host + ":" + std::to_string(options_.port)}, {"err", ctx->errstr}});
    }
  }
  redisFree(ctx);
}

redisReply* RedisCache::Command(const char* operation, const std::vector<std::string_view>& args) {
  redisContext* ctx = Acquire();
  if (ctx == nullptr) return nullptr;
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  const auto start = std::chrono::steady_clock::now();
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (observer_ != nullptr) {
    observer_->OnCommand(
        operation, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const bool ok = reply != nullptr && ctx->err == 0;
  Release(ctx, ok);
  if (!ok) {
    if (reply != nullptr) freeReplyObject(reply);
    return nullptr;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    LogWarn("redis error reply", {{"operation", operation}, {"err", reply->str}});
    freeReplyObject(reply);
    return nullptr;
  }
  return reply;
}

std::optional<std::string> RedisCache::Get(CacheGroup group, std::string_view key) {
  const std::string k = Key(group, key);
  redisReply* reply = Command("get", {"GET", k});
  if (reply == nullptr) {
    if (observer_ != nullptr) observer_->OnLookup(group, CacheResult::kError);
    return std::nullopt;
  }
  std::optional<std::string> out;
  if (reply->type == REDIS_REPLY_STRING) out.emplace(reply->str, reply->len);
  freeReplyObject(reply);
  if (observer_ != nullptr)
    observer_->OnLookup(group, out ? CacheResult::kHit : CacheResult::kMiss);
  return out;
}

void RedisCache::Set(CacheGroup group, std::string_view key, std::string_view value) {
  const std::string k = Key(group, key);
  const std::string ttl = std::to_string(options_.ttl[static_cast<int>(group)].count());
  redisReply* reply = Command("set", {"SET", k, value, "EX", ttl});
  if (reply != nullptr) freeReplyObject(reply);
}

std::optional<std::string> RedisCache::HGet(CacheGroup group, std::string_view key,
                                            std::string_view field) {
  const std::string k = Key(group, key);
  redisReply* reply = Command("get", {"HGET", k, field});
  if (reply == nullptr) {
    if (observer_ != nullptr) observer_->OnLookup(group, CacheResult::kError);
    return std::nullopt;
  }
  std::optional<std::string> out;
  if (reply->type == REDIS_REPLY_STRING) out.emplace(reply->str, reply->len);
  freeReplyObject(reply);
  if (observer_ != nullptr)
    observer_->OnLookup(group, out ? CacheResult::kHit : CacheResult::kMiss);
  return out;
}

void RedisCache::HSet(CacheGroup group, std::string_view key, std::string_view field,
                      std::string_view value) {
  const std::string k = Key(group, key);
  const std::string ttl = std::to_string(options_.ttl[static_cast<int>(group)].count());
  // One round trip: the hash and its TTL are set atomically by a small Lua script.
  redisReply* reply = Command("set", {"EVAL",
                                      "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) "
                                      "return redis.call('EXPIRE', KEYS[1], ARGV[3])",
                                      "1", k, field, value, ttl});
  if (reply != nullptr) freeReplyObject(reply);
}

Status RedisCache::Delete(CacheGroup group, std::string_view key) {
  const std::string k = Key(group, key);
  redisReply* reply = Command("delete", {"DEL", k});
  if (reply == nullptr) return Status::Unavailable("redis: delete " + k + " failed");
  freeReplyObject(reply);
  return Status::Ok();
}

Status RedisCache::Flush() {
  // Deletes only this deployment's keys. KEYS blocks Redis while it runs: fine for the demo's
  // cache-flush scenario, not something to call on a large shared Redis.
  const std::string pattern = options_.key_prefix + ":*";
  redisReply* reply =
      Command("flush", {"EVAL",
                        "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
                        "redis.call('DEL', k) n = n + 1 end return n",
                        "0", pattern});
  if (reply == nullptr) return Status::Unavailable("redis: flush failed");
  freeReplyObject(reply);
  return Status::Ok();
}

bool RedisCache::Ping() {
  redisReply* reply = Command("ping", {"PING"});
  if (reply == nullptr) return false;
  freeReplyObject(reply);
  return true;
}

}  // namespace vigil::shop
