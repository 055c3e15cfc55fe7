#include "collectors/redis/redis_info.h"

#include <charconv>
#include <cmath>

namespace vigil::collectors {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Splits `a=1,b=2` into pairs; false when a part has no '='.
bool SplitPairs(std::string_view value,
                std::vector<std::pair<std::string_view, std::string_view>>& out) {
  out.clear();
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view part = value.substr(0, comma);
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    out.emplace_back(part.substr(0, eq), part.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return !out.empty();
}

std::optional<double> Lookup(const std::vector<std::pair<std::string_view, std::string_view>>& kv,
                             std::string_view key) {
  for (const auto& [k, v] : kv) {
    if (k == key) return ParseRedisNumber(v);
  }
  return std::nullopt;
}

// Returns false when the line was recognised by its prefix but its value is unreadable.
bool ParseStructured(std::string_view key, std::string_view value, RedisInfo& info) {
  std::vector<std::pair<std::string_view, std::string_view>> kv;
  if (key.starts_with("cmdstat_")) {
    if (!SplitPairs(value, kv)) return false;
    auto calls = Lookup(kv, "calls");
    auto usec = Lookup(kv, "usec");
    if (!calls || !usec) return false;
    info.commands.push_back(RedisCommandStat{std::string(key.substr(8)), *calls, *usec,
                                             Lookup(kv, "rejected_calls"),
                                             Lookup(kv, "failed_calls")});
    return true;
  }
  if (key.starts_with("errorstat_")) {
    if (!SplitPairs(value, kv)) return false;
    auto count = Lookup(kv, "count");
    if (!count) return false;
    info.errors.push_back(RedisErrorStat{std::string(key.substr(10)), *count});
    return true;
  }
  if (key.starts_with("latency_percentiles_usec_")) {
    if (!SplitPairs(value, kv)) return false;
    RedisLatencyPercentiles lat{std::string(key.substr(25)), {}};
    for (const auto& [k, v] : kv) {
      auto n = ParseRedisNumber(v);
      if (k.size() < 2 || k[0] != 'p' || !n || !ParseRedisNumber(k.substr(1))) return false;
      lat.percentiles.emplace_back(std::string(k.substr(1)), *n);
    }
    info.latencies.push_back(std::move(lat));
    return true;
  }
  return false;
}

bool IsDbKey(std::string_view key) {
  if (key.size() < 3 || !key.starts_with("db")) return false;
  for (char c : key.substr(2)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsReplicaKey(std::string_view key) {
  if (key.size() < 6 || !key.starts_with("slave")) return false;
  for (char c : key.substr(5)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

enum class Kind { kGauge, kCounter };

struct FieldMetric {
  std::string_view field;
  std::string_view metric;  // without the "redis_" prefix
  Kind kind;
  double scale;
  std::string_view help;
};

// INFO fields exported one to one, with redis_exporter's names.
constexpr FieldMetric kFieldMetrics[] = {
    // Server
    {"uptime_in_seconds", "uptime_in_seconds", Kind::kGauge, 1, "Seconds since the server started"},
    {"process_id", "process_id", Kind::kGauge, 1, "The server's process id"},
    // Clients
    {"connected_clients", "connected_clients", Kind::kGauge, 1, "Client connections"},
    {"blocked_clients", "blocked_clients", Kind::kGauge, 1, "Clients blocked in a blocking call"},
    {"tracking_clients", "tracking_clients", Kind::kGauge, 1, "Clients being tracked"},
    {"client_recent_max_input_buffer", "client_recent_max_input_buffer_bytes", Kind::kGauge, 1,
     "Biggest recent client input buffer"},
    {"client_recent_max_output_buffer", "client_recent_max_output_buffer_bytes", Kind::kGauge, 1,
     "Biggest recent client output buffer"},
    // Memory
    {"used_memory", "memory_used_bytes", Kind::kGauge, 1, "Bytes allocated by Redis"},
    {"used_memory_rss", "memory_used_rss_bytes", Kind::kGauge, 1, "Resident set size of Redis"},
    {"used_memory_peak", "memory_used_peak_bytes", Kind::kGauge, 1, "Peak of used_memory"},
    {"used_memory_lua", "memory_used_lua_bytes", Kind::kGauge, 1, "Bytes used by the Lua engine"},
    {"used_memory_overhead", "memory_used_overhead_bytes", Kind::kGauge, 1,
     "Bytes used for internal structures"},
    {"used_memory_startup", "memory_used_startup_bytes", Kind::kGauge, 1, "Bytes used at startup"},
    {"used_memory_dataset", "memory_used_dataset_bytes", Kind::kGauge, 1, "Bytes used by data"},
    {"used_memory_scripts", "memory_used_scripts_bytes", Kind::kGauge, 1,
     "Bytes used by cached scripts"},
    {"maxmemory", "memory_max_bytes", Kind::kGauge, 1, "The maxmemory setting (0: no limit)"},
    {"mem_fragmentation_ratio", "mem_fragmentation_ratio", Kind::kGauge, 1,
     "Ratio of RSS to used memory"},
    {"mem_fragmentation_bytes", "mem_fragmentation_bytes", Kind::kGauge, 1,
     "RSS minus used memory"},
    {"mem_clients_normal", "mem_clients_normal", Kind::kGauge, 1, "Bytes used by normal clients"},
    {"mem_clients_slaves", "mem_clients_slaves", Kind::kGauge, 1, "Bytes used by replicas"},
    {"mem_not_counted_for_evict", "mem_not_counted_for_eviction_bytes", Kind::kGauge, 1,
     "Bytes not counted for eviction"},
    {"allocator_frag_ratio", "allocator_frag_ratio", Kind::kGauge, 1,
     "Allocator fragmentation ratio"},
    {"lazyfree_pending_objects", "lazyfree_pending_objects", Kind::kGauge, 1,
     "Objects waiting to be freed"},
    {"active_defrag_running", "active_defrag_running", Kind::kGauge, 1,
     "Whether active defragmentation runs"},
    // Persistence
    {"loading", "loading_dump_file", Kind::kGauge, 1, "Whether a dump file is being loaded"},
    {"rdb_changes_since_last_save", "rdb_changes_since_last_save", Kind::kGauge, 1,
     "Changes since the last dump"},
    {"rdb_bgsave_in_progress", "rdb_bgsave_in_progress", Kind::kGauge, 1,
     "Whether an RDB save runs"},
    {"rdb_last_save_time", "rdb_last_save_timestamp_seconds", Kind::kGauge, 1,
     "Time of the last successful RDB save"},
    {"rdb_last_bgsave_time_sec", "rdb_last_bgsave_duration_sec", Kind::kGauge, 1,
     "Duration of the last RDB save"},
    {"rdb_last_cow_size", "rdb_last_cow_size_bytes", Kind::kGauge, 1,
     "Copy-on-write bytes of the last RDB save"},
    {"aof_enabled", "aof_enabled", Kind::kGauge, 1, "Whether AOF is on"},
    {"aof_rewrite_in_progress", "aof_rewrite_in_progress", Kind::kGauge, 1,
     "Whether an AOF rewrite runs"},
    {"aof_last_rewrite_time_sec", "aof_last_rewrite_duration_sec", Kind::kGauge, 1,
     "Duration of the last AOF rewrite"},
    // Stats
    {"total_connections_received", "connections_received_total", Kind::kCounter, 1,
     "Connections accepted"},
    {"total_commands_processed", "commands_processed_total", Kind::kCounter, 1,
     "Commands processed"},
    {"rejected_connections", "rejected_connections_total", Kind::kCounter, 1,
     "Connections rejected because of maxclients"},
    {"total_net_input_bytes", "net_input_bytes_total", Kind::kCounter, 1,
     "Bytes read from network"},
    {"total_net_output_bytes", "net_output_bytes_total", Kind::kCounter, 1,
     "Bytes written to network"},
    {"expired_keys", "expired_keys_total", Kind::kCounter, 1, "Keys expired"},
    {"evicted_keys", "evicted_keys_total", Kind::kCounter, 1, "Keys evicted because of maxmemory"},
    {"keyspace_hits", "keyspace_hits_total", Kind::kCounter, 1, "Successful key lookups"},
    {"keyspace_misses", "keyspace_misses_total", Kind::kCounter, 1, "Failed key lookups"},
    {"expired_stale_perc", "expired_stale_percentage", Kind::kGauge, 1,
     "Estimated percentage of expired keys not yet reclaimed"},
    {"expired_time_cap_reached_count", "expired_time_cap_reached_total", Kind::kGauge, 1,
     "Expire cycles stopped by their time cap"},
    {"pubsub_channels", "pubsub_channels", Kind::kGauge, 1, "Pub/sub channels with subscribers"},
    {"pubsub_patterns", "pubsub_patterns", Kind::kGauge, 1, "Pub/sub patterns with subscribers"},
    {"latest_fork_usec", "latest_fork_seconds", Kind::kGauge, 1e-6, "Duration of the latest fork"},
    // Replication
    {"connected_slaves", "connected_slaves", Kind::kGauge, 1, "Connected replicas"},
    {"master_repl_offset", "master_repl_offset", Kind::kGauge, 1, "Replication offset"},
    {"repl_backlog_active", "repl_backlog_is_active", Kind::kGauge, 1,
     "Whether the replication backlog is active"},
    {"repl_backlog_size", "replication_backlog_bytes", Kind::kGauge, 1,
     "Size of the replication backlog"},
    {"repl_backlog_histlen", "repl_backlog_history_bytes", Kind::kGauge, 1,
     "Bytes of data in the replication backlog"},
    // CPU
    {"used_cpu_sys", "cpu_sys_seconds_total", Kind::kCounter, 1, "System CPU of the server"},
    {"used_cpu_user", "cpu_user_seconds_total", Kind::kCounter, 1, "User CPU of the server"},
    {"used_cpu_sys_children", "cpu_sys_children_seconds_total", Kind::kCounter, 1,
     "System CPU of background processes"},
    {"used_cpu_user_children", "cpu_user_children_seconds_total", Kind::kCounter, 1,
     "User CPU of background processes"},
};

// Fields whose value is "ok" or "err": 1 or 0.
constexpr std::pair<std::string_view, std::string_view> kStatusFields[] = {
    {"rdb_last_bgsave_status", "rdb_last_bgsave_status"},
    {"aof_last_bgrewrite_status", "aof_last_bgrewrite_status"},
    {"aof_last_write_status", "aof_last_write_status"},
};

std::string Name(std::string_view suffix) { return "redis_" + std::string(suffix); }

}  // namespace

std::optional<double> ParseRedisNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<double> RedisInfo::Number(std::string_view key) const {
  auto it = fields.find(key);
  if (it == fields.end()) return std::nullopt;
  return ParseRedisNumber(it->second);
}

std::string_view RedisInfo::Text(std::string_view key) const {
  auto it = fields.find(key);
  return it == fields.end() ? std::string_view() : std::string_view(it->second);
}

RedisInfo ParseRedisInfo(std::string_view text) {
  RedisInfo info;
  std::string section;
  std::vector<std::pair<std::string_view, std::string_view>> kv;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    if (line.front() == '#') {
      section = std::string(Trim(line.substr(1)));
      info.sections.push_back(section);
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      ++info.bad_lines;
      continue;
    }
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (key.starts_with("cmdstat_") || key.starts_with("errorstat_") ||
        key.starts_with("latency_percentiles_usec_")) {
      if (!ParseStructured(key, value, info)) ++info.bad_lines;
      continue;
    }
    if (section == "Keyspace" && IsDbKey(key)) {
      if (!SplitPairs(value, kv)) {
        ++info.bad_lines;
        continue;
      }
      auto keys = Lookup(kv, "keys");
      auto expires = Lookup(kv, "expires");
      if (!keys || !expires) {
        ++info.bad_lines;
        continue;
      }
      info.keyspace.push_back(
          RedisKeyspace{std::string(key), *keys, *expires, Lookup(kv, "avg_ttl").value_or(0)});
      continue;
    }
    if (section == "Replication" && IsReplicaKey(key) && value.find('=') != value.npos) {
      if (!SplitPairs(value, kv)) {
        ++info.bad_lines;
        continue;
      }
      auto offset = Lookup(kv, "offset");
      if (!offset) {
        ++info.bad_lines;
        continue;
      }
      RedisReplica r;
      for (const auto& [k, v] : kv) {
        if (k == "ip") r.ip = v;
        if (k == "port") r.port = v;
        if (k == "state") r.state = v;
      }
      r.offset = *offset;
      r.lag = Lookup(kv, "lag");
      info.replicas.push_back(std::move(r));
      continue;
    }
    info.fields[std::string(key)] = std::string(value);
  }
  return info;
}

void WriteRedisInfoMetrics(const RedisInfo& info, double now_seconds, MetricSink& sink) {
  for (const FieldMetric& m : kFieldMetrics) {
    std::optional<double> v = info.Number(m.field);
    if (!v) continue;
    if (m.kind == Kind::kCounter) {
      sink.Counter(Name(m.metric), m.help, {}, *v * m.scale);
    } else {
      sink.Gauge(Name(m.metric), m.help, {}, *v * m.scale);
    }
  }
  for (const auto& [field, metric] : kStatusFields) {
    std::string_view v = info.Text(field);
    if (v.empty()) continue;
    sink.Gauge(Name(metric), "1 when the last operation succeeded (\"ok\")", {},
               v == "ok" ? 1.0 : 0.0);
  }
  if (auto uptime = info.Number("uptime_in_seconds")) {
    sink.Gauge("redis_start_time_seconds", "Start time of the server since unix epoch", {},
               std::floor(now_seconds - *uptime));
  }

  // vigil's hit ratio since the server started.
  auto hits = info.Number("keyspace_hits");
  auto misses = info.Number("keyspace_misses");
  if (hits && misses && *hits + *misses > 0) {
    sink.Gauge("redis_keyspace_hit_ratio",
               "keyspace_hits / (keyspace_hits + keyspace_misses) since the server started", {},
               *hits / (*hits + *misses));
  }

  for (const RedisKeyspace& db : info.keyspace) {
    Labels l{{"db", db.db}};
    sink.Gauge("redis_db_keys", "Keys by database", l, db.keys);
    sink.Gauge("redis_db_keys_expiring", "Keys with an expiry by database", l, db.expires);
    sink.Gauge("redis_db_avg_ttl_seconds", "Average TTL of expiring keys by database", l,
               db.avg_ttl_ms / 1000.0);
  }

  for (const RedisCommandStat& c : info.commands) {
    Labels l{{"cmd", c.cmd}};
    sink.Counter("redis_commands_total", "Calls by command", l, c.calls);
    sink.Counter("redis_commands_duration_seconds_total", "Time spent by command", l, c.usec / 1e6);
    if (c.rejected_calls) {
      sink.Counter("redis_commands_rejected_calls_total", "Rejected calls by command", l,
                   *c.rejected_calls);
    }
    if (c.failed_calls) {
      sink.Counter("redis_commands_failed_calls_total", "Failed calls by command", l,
                   *c.failed_calls);
    }
  }
  for (const RedisErrorStat& e : info.errors) {
    sink.Counter("redis_errors_total", "Error replies by error prefix", {{"err", e.error}},
                 e.count);
  }
  // Latency percentiles as redis_exporter's summary: quantile labels are the percentiles as
  // Redis names them ("50", "99.9"), values in microseconds; _sum and _count from cmdstat.
  for (const RedisLatencyPercentiles& lat : info.latencies) {
    const RedisCommandStat* stat = nullptr;
    for (const RedisCommandStat& c : info.commands) {
      if (c.cmd == lat.cmd) stat = &c;
    }
    if (stat == nullptr) continue;
    const char* help = "Latency percentiles of the command in microseconds";
    for (const auto& [p, v] : lat.percentiles) {
      sink.Add("redis_latency_percentiles_usec", help, MetricType::kSummary,
               Sample{Labels{{"cmd", lat.cmd}, {"quantile", p}}, v, SampleSuffix::kNone, 0});
    }
    sink.Add("redis_latency_percentiles_usec", help, MetricType::kSummary,
             Sample{Labels{{"cmd", lat.cmd}}, stat->usec, SampleSuffix::kSum, 0});
    sink.Add("redis_latency_percentiles_usec", help, MetricType::kSummary,
             Sample{Labels{{"cmd", lat.cmd}}, stat->calls, SampleSuffix::kCount, 0});
  }

  // Replication.
  std::string_view master_host = info.Text("master_host");
  std::string_view master_port = info.Text("master_port");
  if (!master_host.empty()) {
    Labels l{{"master_host", std::string(master_host)}, {"master_port", std::string(master_port)}};
    sink.Gauge("redis_master_link_up", "1 when the link to the master is up", l,
               info.Text("master_link_status") == "up" ? 1.0 : 0.0);
    if (auto v = info.Number("master_last_io_seconds_ago")) {
      sink.Gauge("redis_master_last_io_seconds_ago", "Seconds since the last I/O with the master",
                 l, *v);
    }
    if (auto v = info.Number("master_sync_in_progress")) {
      sink.Gauge("redis_master_sync_in_progress", "1 while syncing from the master", l, *v);
    }
    if (auto v = info.Number("slave_repl_offset")) {
      sink.Gauge("redis_slave_repl_offset", "Replication offset of this replica", l, *v);
    }
    sink.Gauge("redis_slave_info", "Information about the master of this replica",
               Labels{{"master_host", std::string(master_host)},
                      {"master_port", std::string(master_port)},
                      {"read_only", std::string(info.Text("slave_read_only"))}},
               1);
  }
  for (const RedisReplica& r : info.replicas) {
    Labels l{{"slave_ip", r.ip}, {"slave_port", r.port}, {"slave_state", r.state}};
    sink.Gauge("redis_connected_slave_offset_bytes", "Replication offset of a connected replica", l,
               r.offset);
    if (r.lag) {
      sink.Gauge("redis_connected_slave_lag_seconds", "Lag of a connected replica", l, *r.lag);
    }
  }

  std::string_view mode = info.Text("redis_mode");
  sink.Gauge("redis_instance_info", "Information about the Redis instance",
             Labels{{"role", std::string(info.Text("role"))},
                    {"redis_version", std::string(info.Text("redis_version"))},
                    {"redis_build_id", std::string(info.Text("redis_build_id"))},
                    {"redis_mode", std::string(mode)},
                    {"os", std::string(info.Text("os"))},
                    {"maxmemory_policy", std::string(info.Text("maxmemory_policy"))},
                    {"tcp_port", std::string(info.Text("tcp_port"))},
                    {"run_id", std::string(info.Text("run_id"))},
                    {"process_id", std::string(info.Text("process_id"))}},
             1);
}

}  // namespace vigil::collectors
