// The PostgreSQL views vigil reads, one function per view (one file each). Each runs its
// queries through a QueryRunner, writes postgres_exporter's names where it has the same
// thing, and returns an error only for its own failure; NULLs never abort a view.
#pragma once

#include "agent/base/metric.h"
#include "collectors/postgres/query_runner.h"

namespace vigil {

struct ServerInfo {
  int version_num = 0;  // server_version_num, e.g. 150004
  bool is_replica = false;
  bool has_statements = false;  // pg_stat_statements installed in the connected database
};

// Probes version, recovery state and pg_stat_statements; emits pg_up-related static info.
Result<ServerInfo> ProbeServer(QueryRunner& db, MetricSink& sink);
Status CollectSettings(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
Status CollectStatDatabase(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
Status CollectStatActivity(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
// Lock counts by mode, waiting sessions and who blocks whom (attached as "blocking" JSON).
Status CollectLocks(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
Status CollectBgwriter(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
Status CollectReplication(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
// Per database (run on a connection to that database): tables and indexes, at most `limit` each.
Status CollectTableUsage(QueryRunner& db, const ServerInfo& info, int limit, MetricSink& sink);

}  // namespace vigil
