// The Redis collector: one Redis server, read with `INFO ALL`, `SLOWLOG GET` and `SLOWLOG LEN`
// over hiredis, exported with redis_exporter's names (redis_up, redis_memory_used_bytes,
// redis_commands_total{cmd}, ...) plus vigil's redis_keyspace_hit_ratio and a slowlog digest
// (redis_slowlog_commands_total{cmd}, redis_slowlog_commands_duration_seconds_total{cmd}).
//
// Every sample carries `target="<name>"`, so several Redis instances never collide.
// The connection is kept between cycles; after any failure it is dropped and the next cycle
// connects again, so a restarted server is picked up without restarting the agent. Connect
// and command timeouts come from ctx.deadline. The password is never logged or exported.
// Thread-compatible: the scheduler never runs one instance concurrently.
#pragma once

#include <memory>
#include <string>

#include "collectors/collector.h"
#include "collectors/redis/slowlog_digest.h"

struct redisContext;

namespace vigil::collectors {

struct RedisConfig {
  std::string name;
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // ACL user (Redis 6+); empty: the default user
  std::string password;  // empty: no AUTH
  bool slowlog = true;
  int slowlog_max = 128;  // entries fetched per cycle (SLOWLOG GET n)
};

class RedisCollector final : public Collector {
 public:
  explicit RedisCollector(RedisConfig config);
  ~RedisCollector() override;
  RedisCollector(const RedisCollector&) = delete;
  RedisCollector& operator=(const RedisCollector&) = delete;

  Status Collect(const CollectContext& ctx, MetricSink& sink) override;

 private:
  Status Connect(TimestampMs deadline);
  void Disconnect();
  Status CollectConnected(const CollectContext& ctx, MetricSink& sink);

  RedisConfig config_;
  redisContext* conn_ = nullptr;
  SlowlogDigest slowlog_;
};

}  // namespace vigil::collectors
