#include "collectors/redis/redis_info.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "tests/support/snapshot_util.h"

namespace vigil::collectors {
namespace {

using testing::FindValue;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(VIGIL_TESTDATA_DIR) + "/redis/" + name, std::ios::binary);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Snapshot Metrics(const RedisInfo& info, double now = 1700000000) {
  MetricSink sink;
  WriteRedisInfoMetrics(info, now, sink);
  CHECK(sink.conflicts() == 0);
  return sink.Take();
}

const MetricFamily* Family(const Snapshot& s, const std::string& name) {
  for (const MetricFamily& f : s) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST_CASE("INFO of Redis 7.0 (captured): fields, commands, errors, latency, keyspace", "[redis]") {
  RedisInfo info = ParseRedisInfo(ReadFixture("info_7.0.txt"));
  CHECK(info.bad_lines == 0);
  CHECK(info.Text("redis_version") == "7.0.15");
  CHECK(info.Number("used_memory") == 1117192);
  CHECK(info.sections.front() == "Server");
  CHECK(info.sections.back() == "Keyspace");
  REQUIRE(info.keyspace.size() == 2);
  CHECK(info.keyspace[0].db == "db0");
  CHECK(info.keyspace[0].keys == 20);
  CHECK(info.keyspace[0].expires == 1);
  CHECK(info.keyspace[1].db == "db1");
  CHECK(info.errors.size() == 1);
  CHECK(info.errors[0].error == "ERR");
  CHECK(info.errors[0].count == 1);

  Snapshot s = Metrics(info);
  CHECK(FindValue(s, "redis_memory_used_bytes") == 1117192);
  CHECK(FindValue(s, "redis_memory_max_bytes") == 0);
  CHECK(FindValue(s, "redis_connected_clients") == 1);
  CHECK(FindValue(s, "redis_commands_processed_total") == 31);
  CHECK(FindValue(s, "redis_keyspace_hits_total") == 2);
  CHECK(FindValue(s, "redis_keyspace_misses_total") == 1);
  CHECK(FindValue(s, "redis_keyspace_hit_ratio") == Approx(2.0 / 3.0));
  CHECK(FindValue(s, "redis_db_keys", {{"db", "db0"}}) == 20);
  CHECK(FindValue(s, "redis_db_keys_expiring", {{"db", "db0"}}) == 1);
  CHECK(FindValue(s, "redis_db_keys", {{"db", "db1"}}) == 1);
  CHECK(FindValue(s, "redis_commands_total", {{"cmd", "set"}}) == 21);
  CHECK(FindValue(s, "redis_commands_duration_seconds_total", {{"cmd", "set"}}) == Approx(143e-6));
  CHECK(FindValue(s, "redis_commands_total", {{"cmd", "config|set"}}) == 1);
  CHECK(FindValue(s, "redis_commands_failed_calls_total", {{"cmd", "get"}}) == 0);
  CHECK(FindValue(s, "redis_errors_total", {{"err", "ERR"}}) == 1);
  CHECK(FindValue(s, "redis_start_time_seconds") == 1700000000 - 2);
  CHECK(FindValue(s, "redis_instance_info",
                  {{"redis_version", "7.0.15"}, {"role", "master"}, {"tcp_port", "34581"}}) == 1);
  CHECK(FindValue(s, "redis_rdb_last_bgsave_status") == 1);
  // Latency percentiles: a summary per command, quantiles as Redis names them.
  const MetricFamily* lat = Family(s, "redis_latency_percentiles_usec");
  REQUIRE(lat != nullptr);
  CHECK(lat->type == MetricType::kSummary);
  CHECK(FindValue(s, "redis_latency_percentiles_usec", {{"cmd", "get"}, {"quantile", "99.9"}}) ==
        Approx(6.015));
  CHECK(FindValue(s, "redis_latency_percentiles_usec", {{"cmd", "get"}}, SampleSuffix::kCount) ==
        3);
  CHECK(FindValue(s, "redis_latency_percentiles_usec", {{"cmd", "get"}}, SampleSuffix::kSum) == 15);
  // Types follow redis_exporter.
  CHECK(Family(s, "redis_commands_total")->type == MetricType::kCounter);
  CHECK(Family(s, "redis_memory_used_bytes")->type == MetricType::kGauge);
  CHECK(Family(s, "redis_db_keys")->type == MetricType::kGauge);
}

TEST_CASE("INFO of Redis 5.0: no errorstats or latencystats, replicas of a master", "[redis]") {
  RedisInfo info = ParseRedisInfo(ReadFixture("info_5.0.txt"));
  CHECK(info.bad_lines == 0);
  CHECK(info.errors.empty());
  CHECK(info.latencies.empty());
  REQUIRE(info.commands.size() == 3);
  CHECK_FALSE(info.commands[0].rejected_calls.has_value());
  Snapshot s = Metrics(info);
  CHECK(FindValue(s, "redis_commands_total", {{"cmd", "get"}}) == 180000);
  CHECK(FindValue(s, "redis_commands_duration_seconds_total", {{"cmd", "info"}}) == Approx(1.5));
  CHECK(Family(s, "redis_commands_rejected_calls_total") == nullptr);
  CHECK(Family(s, "redis_latency_percentiles_usec") == nullptr);
  CHECK(FindValue(s, "redis_keyspace_hit_ratio") == Approx(0.9));
  CHECK(FindValue(s, "redis_evicted_keys_total") == 55);
  CHECK(FindValue(s, "redis_expired_keys_total") == 700);
  CHECK(FindValue(s, "redis_rejected_connections_total") == 3);
  CHECK(FindValue(s, "redis_memory_max_bytes") == 268435456);
  CHECK(FindValue(s, "redis_memory_used_rss_bytes") == 8388608);
  CHECK(FindValue(s, "redis_mem_fragmentation_ratio") == Approx(2.67));
  CHECK(FindValue(s, "redis_net_input_bytes_total") == 9000000);
  CHECK(FindValue(s, "redis_cpu_user_seconds_total") == Approx(30.25));
  CHECK(FindValue(s, "redis_rdb_last_bgsave_status") == 0);
  CHECK(FindValue(s, "redis_connected_slaves") == 2);
  CHECK(FindValue(s, "redis_db_avg_ttl_seconds", {{"db", "db0"}}) == 60);
  CHECK(FindValue(s, "redis_db_keys", {{"db", "db3"}}) == 7);
  CHECK(FindValue(s, "redis_connected_slave_offset_bytes",
                  {{"slave_ip", "10.0.0.2"}, {"slave_port", "6379"}, {"slave_state", "online"}}) ==
        123456);
  CHECK(FindValue(s, "redis_connected_slave_lag_seconds", {{"slave_ip", "10.0.0.3"}}) == 1);
  CHECK(FindValue(s, "redis_instance_info", {{"maxmemory_policy", "allkeys-lru"}}) == 1);
  // Human-readable and percent fields are not numbers: never exported, never "bad".
  CHECK(Family(s, "redis_used_memory_human") == nullptr);
}

TEST_CASE("INFO of Redis 6.2 (CRLF): replica, errorstats, rejected and failed calls", "[redis]") {
  RedisInfo info = ParseRedisInfo(ReadFixture("info_6.2.txt"));
  CHECK(info.bad_lines == 0);
  CHECK(info.Text("role") == "slave");  // no trailing \r
  Snapshot s = Metrics(info);
  CHECK(FindValue(s, "redis_master_link_up", {{"master_host", "10.0.0.1"}}) == 0);
  CHECK(FindValue(s, "redis_slave_repl_offset") == 98765);
  CHECK(FindValue(s, "redis_slave_info", {{"read_only", "1"}, {"master_port", "6379"}}) == 1);
  CHECK(FindValue(s, "redis_errors_total", {{"err", "WRONGTYPE"}}) == 2);
  CHECK(FindValue(s, "redis_commands_rejected_calls_total", {{"cmd", "get"}}) == 1);
  CHECK(FindValue(s, "redis_commands_failed_calls_total", {{"cmd", "lpush"}}) == 2);
  CHECK(FindValue(s, "redis_tracking_clients") == 1);
  CHECK(FindValue(s, "redis_db_keys", {{"db", "db0"}}) == 42);
  // Neither hits nor misses yet: the ratio is absent rather than 0 or NaN.
  CHECK(FindValue(s, "redis_keyspace_hits_total") == 0);
  CHECK_FALSE(FindValue(s, "redis_keyspace_hit_ratio").has_value());
}

TEST_CASE("truncated INFO keeps what arrived and counts the broken line", "[redis]") {
  RedisInfo info = ParseRedisInfo(ReadFixture("info_truncated.txt"));
  CHECK(info.bad_lines == 1);  // "cmdstat_get:calls=3,us"
  CHECK(info.Number("used_memory") == 1117192);
  CHECK(info.keyspace.empty());
  Snapshot s = Metrics(info);
  CHECK(FindValue(s, "redis_memory_used_bytes") == 1117192);
  CHECK_FALSE(FindValue(s, "redis_commands_total", {{"cmd", "get"}}).has_value());
  CHECK(FindValue(s, "redis_commands_total", {{"cmd", "expire"}}) == 1);
}

TEST_CASE("malformed INFO lines are counted, never fatal", "[redis]") {
  RedisInfo info = ParseRedisInfo(
      "# Server\nno colon here\n:novalue\nuptime_in_seconds:12\n"
      "# Keyspace\ndb0:keys=x,expires=1\ndb1:keys=3\ndb2:keys=4,expires=1,avg_ttl=0\n"
      "# Commandstats\ncmdstat_get:calls=1\ncmdstat_set:calls=2,usec=3\n"
      "# Latencystats\nlatency_percentiles_usec_get:p50=abc\n"
      "# Errorstats\nerrorstat_ERR:count\n");
  CHECK(info.bad_lines == 7);
  CHECK(info.Number("uptime_in_seconds") == 12);
  REQUIRE(info.keyspace.size() == 1);
  CHECK(info.keyspace[0].db == "db2");
  REQUIRE(info.commands.size() == 1);
  CHECK(info.commands[0].cmd == "set");
  CHECK(ParseRedisInfo("").fields.empty());
}

TEST_CASE("Redis numbers", "[redis]") {
  CHECK(ParseRedisNumber("12") == 12);
  CHECK(ParseRedisNumber("-1") == -1);
  CHECK(ParseRedisNumber("+2.5") == 2.5);
  CHECK(ParseRedisNumber("1e3") == 1000);
  CHECK_FALSE(ParseRedisNumber("1.07M").has_value());
  CHECK_FALSE(ParseRedisNumber("99.43%").has_value());
  CHECK_FALSE(ParseRedisNumber("").has_value());
}

}  // namespace
}  // namespace vigil::collectors
