#include "collectors/pgbouncer/pgbouncer_views.h"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vigil::collectors {
namespace {

// One numeric column of a SHOW result and the metric it becomes.
struct ColumnMetric {
  const char* column;
  const char* metric;
  MetricType type;
  double scale;  // e.g. 1e-6 for microseconds to seconds
  const char* help;
};

constexpr MetricType kG = MetricType::kGauge;
constexpr MetricType kC = MetricType::kCounter;

constexpr ColumnMetric kPoolColumns[] = {
    {"cl_active", "pgbouncer_pools_client_active_connections", kG, 1,
     "Client connections linked to a server connection and able to process queries"},
    {"cl_waiting", "pgbouncer_pools_client_waiting_connections", kG, 1,
     "Client connections waiting for a server connection"},
    {"cl_active_cancel_req", "pgbouncer_pools_client_active_cancel_connections", kG, 1,
     "Client connections that forwarded a query cancellation and wait for the server's answer"},
    {"cl_waiting_cancel_req", "pgbouncer_pools_client_waiting_cancel_connections", kG, 1,
     "Client connections that have not forwarded their query cancellation yet"},
    {"sv_active", "pgbouncer_pools_server_active_connections", kG, 1,
     "Server connections linked to a client connection"},
    {"sv_active_cancel", "pgbouncer_pools_server_active_cancel_connections", kG, 1,
     "Server connections forwarding a cancel request"},
    {"sv_being_canceled", "pgbouncer_pools_server_being_canceled_connections", kG, 1,
     "Server connections waiting for in-flight cancel requests before becoming idle"},
    {"sv_idle", "pgbouncer_pools_server_idle_connections", kG, 1,
     "Server connections idle and ready for a client query"},
    {"sv_used", "pgbouncer_pools_server_used_connections", kG, 1,
     "Server connections idle longer than server_check_delay, needing server_check_query"},
    {"sv_tested", "pgbouncer_pools_server_testing_connections", kG, 1,
     "Server connections running server_reset_query or server_check_query"},
    {"sv_login", "pgbouncer_pools_server_login_connections", kG, 1,
     "Server connections logging in"},
};

constexpr ColumnMetric kStatsColumns[] = {
    {"total_query_count", "pgbouncer_stats_queries_pooled_total", kC, 1,
     "SQL queries pooled by pgbouncer"},
    {"total_query_time", "pgbouncer_stats_queries_duration_seconds_total", kC, 1e-6,
     "Seconds pgbouncer spent connected to PostgreSQL executing queries"},
    {"total_received", "pgbouncer_stats_received_bytes_total", kC, 1,
     "Network traffic received by pgbouncer"},
    {"total_sent", "pgbouncer_stats_sent_bytes_total", kC, 1, "Network traffic sent by pgbouncer"},
    {"total_requests", "pgbouncer_stats_queries_total", kC, 1,
     "SQL requests pooled by pgbouncer (pgbouncer before 1.8)"},
    {"total_wait_time", "pgbouncer_stats_client_wait_seconds_total", kC, 1e-6,
     "Seconds clients spent waiting for a server connection"},
    {"total_xact_count", "pgbouncer_stats_sql_transactions_pooled_total", kC, 1,
     "SQL transactions pooled by pgbouncer"},
    {"total_xact_time", "pgbouncer_stats_server_in_transaction_seconds_total", kC, 1e-6,
     "Seconds pgbouncer spent connected to PostgreSQL in a transaction"},
    {"total_client_parse_count", "pgbouncer_stats_client_parses_total", kC, 1,
     "Prepared-statement Parse messages received from clients (pgbouncer 1.21+)"},
    {"total_server_parse_count", "pgbouncer_stats_server_parses_total", kC, 1,
     "Prepared-statement Parse messages sent to PostgreSQL (pgbouncer 1.21+)"},
    {"total_bind_count", "pgbouncer_stats_binds_total", kC, 1,
     "Prepared statements readied for execution with a Bind message (pgbouncer 1.21+)"},
};

constexpr ColumnMetric kDatabaseColumns[] = {
    {"pool_size", "pgbouncer_databases_pool_size", kG, 1, "Maximum number of server connections"},
    {"reserve_pool", "pgbouncer_databases_reserve_pool", kG, 1,
     "Maximum number of additional connections for this database"},
    {"max_connections", "pgbouncer_databases_max_connections", kG, 1,
     "Maximum number of allowed connections for this database (0: no limit)"},
    {"current_connections", "pgbouncer_databases_current_connections", kG, 1,
     "Current number of server connections for this database"},
    {"paused", "pgbouncer_databases_paused", kG, 1, "1 if this database is paused"},
    {"disabled", "pgbouncer_databases_disabled", kG, 1, "1 if this database is disabled"},
};

// SHOW LISTS rows (list name, items) and SHOW CONFIG rows (key, value) that become gauges.
struct RowMetric {
  const char* key;
  const char* metric;
  const char* help;
};

constexpr RowMetric kLists[] = {
    {"databases", "pgbouncer_databases", "Count of databases"},
    {"users", "pgbouncer_users", "Count of users"},
    {"pools", "pgbouncer_pools", "Count of pools"},
    {"free_clients", "pgbouncer_free_clients", "Count of free clients"},
    {"used_clients", "pgbouncer_used_clients", "Count of used clients"},
    {"login_clients", "pgbouncer_login_clients", "Count of clients in login state"},
    {"free_servers", "pgbouncer_free_servers", "Count of free servers"},
    {"used_servers", "pgbouncer_used_servers", "Count of used servers"},
    {"dns_names", "pgbouncer_cached_dns_names", "Count of DNS names in the cache"},
    {"dns_zones", "pgbouncer_cached_dns_zones", "Count of DNS zones in the cache"},
    {"dns_queries", "pgbouncer_in_flight_dns_queries", "Count of in-flight DNS queries"},
};

constexpr RowMetric kConfig[] = {
    {"max_client_conn", "pgbouncer_config_max_client_connections",
     "Config maximum number of client connections"},
    {"max_user_connections", "pgbouncer_config_max_user_connections",
     "Config maximum number of server connections per user (0: no limit)"},
};

void WriteColumns(const QueryResult& r, std::span<const ColumnMetric> columns,
                  const std::vector<const char*>& label_columns, MetricSink& sink) {
  for (std::size_t row = 0; row < r.rows.size(); ++row) {
    Labels labels;
    for (const char* l : label_columns) labels.Set(l, std::string(r.Text(row, l)));
    for (const ColumnMetric& c : columns) {
      std::optional<double> v = r.Number(row, c.column);
      if (!v) continue;
      double value = *v * c.scale;
      if (c.type == kC) {
        sink.Counter(c.metric, c.help, labels, value);
      } else {
        sink.Gauge(c.metric, c.help, labels, value);
      }
    }
  }
}

void WriteRows(const QueryResult& r, const char* key_column, const char* value_column,
               std::span<const RowMetric> metrics, MetricSink& sink) {
  for (std::size_t row = 0; row < r.rows.size(); ++row) {
    std::string_view key = r.Text(row, key_column);
    for (const RowMetric& m : metrics) {
      if (key != m.key) continue;
      if (std::optional<double> v = r.Number(row, value_column)) {
        sink.Gauge(m.metric, m.help, {}, *v);
      }
    }
  }
}

}  // namespace

void WritePgbouncerResult(std::string_view command, const QueryResult& r, MetricSink& sink) {
  if (command == "SHOW VERSION") {
    // "PgBouncer 1.18.0" (1.12+); older versions answered with a NOTICE and no rows.
    if (!r.rows.empty() && r.Column("version") >= 0) {
      sink.Gauge("pgbouncer_version_info", "The pgbouncer version",
                 {{"version", std::string(r.Text(0, "version"))}}, 1);
    }
  } else if (command == "SHOW LISTS") {
    WriteRows(r, "list", "items", kLists, sink);
  } else if (command == "SHOW CONFIG") {
    WriteRows(r, "key", "value", kConfig, sink);
  } else if (command == "SHOW POOLS") {
    WriteColumns(r, kPoolColumns, {"database", "user"}, sink);
    // maxwait is whole seconds; maxwait_us (1.8+) adds the microseconds.
    for (std::size_t row = 0; row < r.rows.size(); ++row) {
      std::optional<double> s = r.Number(row, "maxwait");
      if (!s) continue;
      double us = r.Number(row, "maxwait_us").value_or(0);
      sink.Gauge("pgbouncer_pools_client_maxwait_seconds",
                 "Age of the oldest unserved client connection",
                 {{"database", std::string(r.Text(row, "database"))},
                  {"user", std::string(r.Text(row, "user"))}},
                 *s + us * 1e-6);
    }
  } else if (command == "SHOW DATABASES") {
    WriteColumns(r, kDatabaseColumns,
                 {"name", "host", "port", "database", "force_user", "pool_mode"}, sink);
  } else if (command == "SHOW STATS") {
    WriteColumns(r, kStatsColumns, {"database"}, sink);
  }
}

Status CollectPgbouncerViews(QueryRunner& runner, MetricSink& sink) {
  for (const char* command : kPgbouncerCommands) {
    Result<QueryResult> r = runner.Query(command);
    if (!r.ok()) return r.status().WithContext(command);
    WritePgbouncerResult(command, *r, sink);
  }
  return Status::Ok();
}

}  // namespace vigil::collectors
