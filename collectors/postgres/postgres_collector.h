// The PostgreSQL collector: one server (a `postgres:` entry), its views, per-database table
// and index usage, and pg_stat_statements deltas.
//
// It keeps one connection to the DSN's database, reconnecting on the next cycle after a
// failure (the interval is the backoff) and recycling it after max_connection_age, plus at
// most max_db_connections pooled connections for per-database views; databases past that
// bound get a connection that is closed right after use, so at most 1 + max_db_connections
// are open at once. When the server is down it reports pg_up 0 and an error.
// Thread-compatible: the scheduler never runs one instance concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/postgres/pg_connection.h"
#include "collectors/postgres/statement_tracker.h"
#include "collectors/postgres/views.h"

namespace vigil::collectors {

struct PostgresConfig {
  std::string name;
  PgConnectOptions connect;
  bool auto_databases = false;         // databases: auto
  std::vector<std::string> databases;  // per-database views; empty: only the DSN's
  int max_db_connections = 4;
  int table_limit = 200;        // tables and indexes per database
  int freeze_table_limit = 10;  // tables by relfrozenxid age per database
  int activity_top_n = 20;      // (application, user) session groups and wait events
  bool statements = true;
  StatementsOptions statements_options;
  Duration statements_interval{60000};
  Duration max_connection_age{3600000};
};

class PostgresCollector final : public Collector {
 public:
  explicit PostgresCollector(PostgresConfig config);
  Status Collect(const CollectContext& ctx, MetricSink& sink) override;

 private:
  Status EnsureConnected(const CollectContext& ctx);
  void CollectDatabases(const CollectContext& ctx, const ServerInfo& info, MetricSink& sink,
                        int* failures);

  PostgresConfig config_;
  PgConnection main_;
  std::string main_db_;
  std::map<std::string, std::unique_ptr<PgConnection>> db_pool_;
  StatementTracker tracker_;
  TimestampMs statements_read_at_ = 0;
  std::string last_error_;
};

}  // namespace vigil::collectors
