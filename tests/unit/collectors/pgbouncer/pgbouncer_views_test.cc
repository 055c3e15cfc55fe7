#include "collectors/pgbouncer/pgbouncer_views.h"

#include <catch2/catch.hpp>
#include <map>

#include "tests/support/snapshot_util.h"

namespace vigil::collectors {
namespace {

using testing::FindValue;
using Rows = std::vector<std::vector<std::optional<std::string>>>;

// Answers each SHOW command from a script (exact text); records what ran.
class ScriptedConsole final : public QueryRunner {
 public:
  std::map<std::string, Result<QueryResult>> script;
  std::vector<std::string> ran;
  Result<QueryResult> Query(std::string_view sql) override {
    ran.emplace_back(sql);
    auto it = script.find(std::string(sql));
    if (it == script.end()) return Status::Unavailable("unexpected query: " + std::string(sql));
    return it->second;
  }
};

// What pgbouncer 1.18 answers (captured from a real one, trimmed).
ScriptedConsole Pgbouncer118() {
  ScriptedConsole c;
  c.script.emplace("SHOW VERSION", QueryResult{{"version"}, {{"PgBouncer 1.18.0"}}});
  c.script.emplace("SHOW LISTS", QueryResult{{"list", "items"},
                                             {{"databases", "2"},
                                              {"users", "2"},
                                              {"pools", "2"},
                                              {"free_clients", "49"},
                                              {"used_clients", "1"},
                                              {"login_clients", "0"},
                                              {"free_servers", "49"},
                                              {"used_servers", "1"},
                                              {"dns_names", "0"},
                                              {"dns_zones", "0"},
                                              {"dns_queries", "0"},
                                              {"dns_pending", "0"}}});
  c.script.emplace("SHOW CONFIG", QueryResult{{"key", "value", "default", "changeable"},
                                              {{"auth_type", "trust", "md5", "yes"},
                                               {"max_client_conn", "100", "100", "yes"},
                                               {"max_user_connections", "0", "0", "yes"},
                                               {"listen_port", "6432", "6432", "no"}}});
  c.script.emplace("SHOW POOLS",
                   QueryResult{{"database", "user", "cl_active", "cl_waiting",
                                "cl_active_cancel_req", "cl_waiting_cancel_req", "sv_active",
                                "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used",
                                "sv_tested", "sv_login", "maxwait", "maxwait_us", "pool_mode"},
                               Rows{{"pgbouncer", "pgbouncer", "1", "0", "0", "0", "0", "0", "0",
                                     "0", "0", "0", "0", "0", "0", "statement"},
                                    {"shop", "app", "4", "3", "0", "0", "2", "0", "0", "1", "0",
                                     "0", "0", "2", "500000", "transaction"}}});
  c.script.emplace("SHOW DATABASES",
                   QueryResult{{"name", "host", "port", "database", "force_user", "pool_size",
                                "min_pool_size", "reserve_pool", "pool_mode", "max_connections",
                                "current_connections", "paused", "disabled"},
                               Rows{{"pgbouncer", std::nullopt, "6432", "pgbouncer", "pgbouncer",
                                     "2", "0", "0", "statement", "0", "0", "0", "0"},
                                    {"shop", "127.0.0.1", "5432", "postgres", std::nullopt, "20",
                                     "0", "5", std::nullopt, "0", "3", "0", "1"}}});
  c.script.emplace(
      "SHOW STATS",
      QueryResult{{"database", "total_xact_count", "total_query_count", "total_received",
                   "total_sent", "total_xact_time", "total_query_time", "total_wait_time",
                   "avg_xact_count", "avg_query_count", "avg_recv", "avg_sent", "avg_xact_time",
                   "avg_query_time", "avg_wait_time"},
                  Rows{{"shop", "3", "7", "42", "240", "1710", "2500000", "2556", "1", "1", "22",
                        "127", "570", "570", "1359"}}});
  return c;
}

TEST_CASE("pgbouncer: SHOW results become pgbouncer_exporter's names, types and labels",
          "[pgbouncer]") {
  ScriptedConsole console = Pgbouncer118();
  MetricSink sink;
  REQUIRE(CollectPgbouncerViews(console, sink).ok());
  CHECK(console.ran == std::vector<std::string>{"SHOW VERSION", "SHOW LISTS", "SHOW CONFIG",
                                                "SHOW POOLS", "SHOW DATABASES", "SHOW STATS"});
  Snapshot s = sink.Take();
  std::map<std::string, MetricType> types;
  for (const MetricFamily& f : s) types[f.name] = f.type;

  CHECK(FindValue(s, "pgbouncer_version_info", {{"version", "PgBouncer 1.18.0"}}) == 1);
  Labels shop{{"database", "shop"}, {"user", "app"}};
  CHECK(FindValue(s, "pgbouncer_pools_client_active_connections", shop) == 4);
  CHECK(FindValue(s, "pgbouncer_pools_client_waiting_connections", shop) == 3);
  CHECK(FindValue(s, "pgbouncer_pools_server_active_connections", shop) == 2);
  CHECK(FindValue(s, "pgbouncer_pools_server_idle_connections", shop) == 1);
  CHECK(FindValue(s, "pgbouncer_pools_client_maxwait_seconds", shop) == Approx(2.5));
  CHECK(FindValue(s, "pgbouncer_pools_client_active_connections",
                  {{"database", "pgbouncer"}, {"user", "pgbouncer"}}) == 1);
  CHECK(types["pgbouncer_pools_client_waiting_connections"] == MetricType::kGauge);

  Labels db{{"database", "shop"}};
  CHECK(FindValue(s, "pgbouncer_stats_queries_pooled_total", db) == 7);
  CHECK(FindValue(s, "pgbouncer_stats_queries_duration_seconds_total", db) == Approx(2.5));
  CHECK(FindValue(s, "pgbouncer_stats_client_wait_seconds_total", db) == Approx(0.002556));
  CHECK(FindValue(s, "pgbouncer_stats_sql_transactions_pooled_total", db) == 3);
  CHECK(FindValue(s, "pgbouncer_stats_server_in_transaction_seconds_total", db) == Approx(0.00171));
  CHECK(FindValue(s, "pgbouncer_stats_received_bytes_total", db) == 42);
  CHECK(FindValue(s, "pgbouncer_stats_sent_bytes_total", db) == 240);
  CHECK(types["pgbouncer_stats_queries_pooled_total"] == MetricType::kCounter);
  CHECK(types["pgbouncer_stats_client_wait_seconds_total"] == MetricType::kCounter);
  // avg_* columns are per-interval averages pgbouncer computes: not exported (use rate()).
  CHECK(types.count("pgbouncer_stats_avg_query_time") == 0);
  // total_requests exists only before pgbouncer 1.8: absent here, not 0.
  CHECK(types.count("pgbouncer_stats_queries_total") == 0);

  Labels shop_db{
      {"name", "shop"}, {"host", "127.0.0.1"}, {"port", "5432"}, {"database", "postgres"}};
  CHECK(FindValue(s, "pgbouncer_databases_current_connections", shop_db) == 3);
  CHECK(FindValue(s, "pgbouncer_databases_pool_size", shop_db) == 20);
  CHECK(FindValue(s, "pgbouncer_databases_reserve_pool", shop_db) == 5);
  CHECK(FindValue(s, "pgbouncer_databases_disabled", shop_db) == 1);
  // NULL label values (no host for the console, no force_user) become empty labels.
  CHECK(FindValue(s, "pgbouncer_databases_pool_size",
                  {{"name", "pgbouncer"}, {"host", ""}, {"force_user", "pgbouncer"}}) == 2);

  CHECK(FindValue(s, "pgbouncer_databases") == 2);
  CHECK(FindValue(s, "pgbouncer_free_clients") == 49);
  CHECK(FindValue(s, "pgbouncer_used_servers") == 1);
  CHECK(FindValue(s, "pgbouncer_cached_dns_names") == 0);
  CHECK(FindValue(s, "pgbouncer_in_flight_dns_queries") == 0);
  CHECK(FindValue(s, "pgbouncer_config_max_client_connections") == 100);
  CHECK(FindValue(s, "pgbouncer_config_max_user_connections") == 0);
  CHECK(types.count("pgbouncer_config_listen_port") == 0);
}

TEST_CASE("pgbouncer: a failing command stops the read, names the command, keeps what was read",
          "[pgbouncer]") {
  ScriptedConsole console = Pgbouncer118();
  console.script.erase("SHOW POOLS");
  console.script.emplace("SHOW POOLS", Status::Unavailable("server closed the connection"));
  MetricSink sink;
  Status s = CollectPgbouncerViews(console, sink);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message() == "SHOW POOLS: server closed the connection");
  CHECK(console.ran.back() == "SHOW POOLS");
  Snapshot snap = sink.Take();
  CHECK(FindValue(snap, "pgbouncer_config_max_client_connections") == 100);
  CHECK_FALSE(FindValue(snap, "pgbouncer_stats_queries_pooled_total").has_value());
}

TEST_CASE("pgbouncer: older and newer column sets, NULLs and junk never abort", "[pgbouncer]") {
  MetricSink sink;
  // pgbouncer 1.7: total_requests, no maxwait_us; a NULL and a non-number are skipped.
  WritePgbouncerResult(
      "SHOW STATS",
      QueryResult{{"database", "total_requests", "total_query_time", "total_received"},
                  Rows{{"old", "12", std::nullopt, "oops"}}},
      sink);
  WritePgbouncerResult(
      "SHOW POOLS",
      QueryResult{{"database", "user", "cl_active", "maxwait"}, Rows{{"old", "u", "1", "3"}}},
      sink);
  // pgbouncer 1.21+: prepared-statement counters.
  WritePgbouncerResult("SHOW STATS",
                       QueryResult{{"database", "total_client_parse_count",
                                    "total_server_parse_count", "total_bind_count"},
                                   Rows{{"new", "5", "2", "9"}}},
                       sink);
  // No rows at all (a version answering SHOW VERSION with a notice).
  WritePgbouncerResult("SHOW VERSION", QueryResult{{}, {}}, sink);
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pgbouncer_stats_queries_total", {{"database", "old"}}) == 12);
  CHECK_FALSE(FindValue(s, "pgbouncer_stats_queries_duration_seconds_total").has_value());
  CHECK_FALSE(FindValue(s, "pgbouncer_stats_received_bytes_total").has_value());
  CHECK(FindValue(s, "pgbouncer_pools_client_maxwait_seconds", {{"database", "old"}}) == 3);
  CHECK(FindValue(s, "pgbouncer_stats_client_parses_total", {{"database", "new"}}) == 5);
  CHECK(FindValue(s, "pgbouncer_stats_server_parses_total", {{"database", "new"}}) == 2);
  CHECK(FindValue(s, "pgbouncer_stats_binds_total", {{"database", "new"}}) == 9);
  CHECK_FALSE(FindValue(s, "pgbouncer_version_info").has_value());
}

}  // namespace
}  // namespace vigil::collectors
