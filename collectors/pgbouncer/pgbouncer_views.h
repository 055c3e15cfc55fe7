// The pgbouncer admin console's SHOW commands turned into metrics with
// prometheus-community/pgbouncer_exporter's names: SHOW POOLS (pgbouncer_pools_*{database,user}),
// SHOW STATS (pgbouncer_stats_*{database}), SHOW DATABASES
// (pgbouncer_databases_*{name,host,port,database,force_user,pool_mode}), SHOW LISTS
// (pgbouncer_databases, pgbouncer_free_clients, ...), SHOW CONFIG
// (pgbouncer_config_max_client_connections, _max_user_connections) and SHOW VERSION
// (pgbouncer_version_info{version}).
//
// Columns a pgbouncer version lacks are skipped, NULL values are skipped, unknown columns are
// ignored; none of them fails the read. Only the simple query protocol is used (the console
// accepts nothing else). Pure functions over a QueryRunner, so tests script the answers.
#pragma once

#include "agent/base/metric.h"
#include "agent/base/status.h"
#include "collectors/postgres/query_runner.h"

namespace vigil::collectors {

// The SHOW commands run, in order.
inline constexpr const char* kPgbouncerCommands[] = {
    "SHOW VERSION", "SHOW LISTS", "SHOW CONFIG", "SHOW POOLS", "SHOW DATABASES", "SHOW STATS"};

// Writes the metrics of one SHOW command's result (`command` is one of kPgbouncerCommands).
void WritePgbouncerResult(std::string_view command, const QueryResult& result, MetricSink& sink);

// Runs every command of kPgbouncerCommands on `runner` and writes their metrics. Stops at the
// first failure and returns it (with the command named); what was read before stays written.
Status CollectPgbouncerViews(QueryRunner& runner, MetricSink& sink);

}  // namespace vigil::collectors
