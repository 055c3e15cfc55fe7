// The PostgreSQL views vigil reads, one function per view (one file each). Each runs its
// queries through a QueryRunner, writes postgres_exporter's names where it has the same
// thing, and returns an error only for its own failure; NULLs never abort a view.
#pragma once

#include <optional>
#include <string>

#include "agent/base/metric.h"
#include "collectors/postgres/query_runner.h"

namespace vigil::collectors {

struct ServerInfo {
  int version_num = 0;  // server_version_num, e.g. 150004
  bool is_replica = false;
  bool has_statements = false;  // pg_stat_statements installed in the connected database
};

// One numeric column of a statistics view, exported as PREFIX + column.
struct ViewColumn {
  const char* column;
  bool counter;
  const char* help;
};

// Emits row `row`'s value of `c`; a NULL cell emits `if_null`, or nothing when that is nullopt.
inline void EmitViewColumn(MetricSink& sink, const QueryResult& r, std::size_t row,
                           const char* prefix, const ViewColumn& c, const Labels& labels,
                           std::optional<double> if_null) {
  std::optional<double> v = r.Number(row, c.column);
  if (!v) v = if_null;
  if (!v) return;
  std::string name = std::string(prefix) + c.column;
  if (c.counter) {
    sink.Counter(name, c.help, labels, *v);
  } else {
    sink.Gauge(name, c.help, labels, *v);
  }
}

// Probes version, recovery state and pg_stat_statements; emits pg_up-related static info.
Result<ServerInfo> ProbeServer(QueryRunner& db, MetricSink& sink);
Status CollectSettings(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
Status CollectStatDatabase(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
Status CollectStatActivity(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
// Lock counts by mode, waiting sessions and who blocks whom (attached as "blocking" JSON).
Status CollectLocks(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
Status CollectBgwriter(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
Status CollectReplication(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
// Frozen XID and multixact ages per database, and as ratios of the freeze max ages.
Status CollectWraparound(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
// What holds the xmin horizon back, by kind; who (pid, user, application, age) is attached as
// "horizon" JSON. Never query text.
Status CollectXminHorizon(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
// Every replication slot: active, wal_status (13+), safe_wal_size, retained WAL, xmin ages.
Status CollectReplicationSlots(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
// pg_stat_wal; nothing before PostgreSQL 14.
Status CollectStatWal(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
// Number and size of WAL segments in pg_wal (pg_ls_waldir).
Status CollectWalDir(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
Status CollectStatArchiver(QueryRunner& db, const ServerInfo& info, MetricSink& sink);
// Per database (run on a connection to that database): tables and indexes, at most `limit` each.
Status CollectTableUsage(QueryRunner& db, const ServerInfo& info, int limit, MetricSink& sink);
// Per database: the `limit` tables with the oldest relfrozenxid.
Status CollectTableFreezeAge(QueryRunner& db, const ServerInfo& info, int limit, MetricSink& sink);
// Client sessions by (application_name, usename), the `limit` largest groups and the rest as
// one count; active sessions by the wait event they wait on (the `limit` most common).
Status CollectActivityTop(QueryRunner& db, const ServerInfo& info, int limit, MetricSink& sink);

}  // namespace vigil::collectors
