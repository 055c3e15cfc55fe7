// Parsing of Redis `INFO ALL` text and its mapping to redis_exporter's metric names.
//
// ParseRedisInfo is a pure function of the reply text (CRLF or LF lines, `# Section`
// headers, `key:value` fields); it never fails: a line it cannot read is counted in
// `bad_lines` and skipped, so a truncated or unusual reply still yields what it holds.
// WriteRedisInfoMetrics turns a parsed reply into samples. Both are thread-safe (no state).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/metric.h"

namespace vigil::collectors {

// `db0:keys=3,expires=1,avg_ttl=1500`
struct RedisKeyspace {
  std::string db;  // "db0"
  double keys = 0;
  double expires = 0;
  double avg_ttl_ms = 0;
};

// `cmdstat_get:calls=3,usec=15,usec_per_call=5.00,rejected_calls=0,failed_calls=0`
// (rejected_calls and failed_calls only on 6.2+).
struct RedisCommandStat {
  std::string cmd;  // "get", "config|set"
  double calls = 0;
  double usec = 0;
  std::optional<double> rejected_calls;
  std::optional<double> failed_calls;
};

// `errorstat_ERR:count=1` (6.2+).
struct RedisErrorStat {
  std::string error;  // "ERR", "WRONGTYPE"
  double count = 0;
};

// `latency_percentiles_usec_get:p50=5.023,p99=6.015,p99.9=6.015` (7.0+).
struct RedisLatencyPercentiles {
  std::string cmd;
  std::vector<std::pair<std::string, double>> percentiles;  // ("50", 5.023), ("99.9", ...)
};

// `slave0:ip=10.0.0.2,port=6379,state=online,offset=1234,lag=0` on a master.
struct RedisReplica {
  std::string ip, port, state;
  double offset = 0;
  std::optional<double> lag;  // absent before Redis 3.0
};

struct RedisInfo {
  // Plain fields by key (the last occurrence wins), e.g. "used_memory" -> "1122304".
  std::map<std::string, std::string, std::less<>> fields;
  std::vector<std::string> sections;  // in order of appearance: "Server", "Clients", ...
  std::vector<RedisKeyspace> keyspace;
  std::vector<RedisCommandStat> commands;
  std::vector<RedisErrorStat> errors;
  std::vector<RedisLatencyPercentiles> latencies;
  std::vector<RedisReplica> replicas;
  std::size_t bad_lines = 0;  // lines that were neither a header, blank, nor a readable field

  // The field as a number, if present and numeric.
  std::optional<double> Number(std::string_view key) const;
  std::string_view Text(std::string_view key) const;  // "" when absent
};

RedisInfo ParseRedisInfo(std::string_view text);

// Parses a decimal number (an optional sign, digits, fraction, exponent) that fills `text`.
std::optional<double> ParseRedisNumber(std::string_view text);

// Writes the samples of one INFO reply with redis_exporter's names (redis_uptime_in_seconds,
// redis_memory_used_bytes, redis_commands_total{cmd}, redis_db_keys{db}, ...), plus vigil's
// redis_keyspace_hit_ratio (absent while there were neither hits nor misses).
// `now_seconds` dates redis_start_time_seconds. Labels common to every sample (the
// instance's `target`) are the sink's.
void WriteRedisInfoMetrics(const RedisInfo& info, double now_seconds, MetricSink& sink);

}  // namespace vigil::collectors
