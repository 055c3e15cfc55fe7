#include "collectors/postgres/views.h"

namespace vigil::collectors {

Result<ServerInfo> ProbeServer(QueryRunner& db, MetricSink& sink) {
  Result<QueryResult> r = db.Query(
      "SELECT current_setting('server_version_num')::int AS version_num, "
      "current_setting('server_version') AS version, version() AS full_version, "
      "pg_is_in_recovery() AS is_replica, "
      "extract(epoch from pg_postmaster_start_time()) AS start_time, "
      "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS statements");
  if (!r.ok()) return r.status().WithContext("probe");
  if (r->rows.empty()) return Status::Internal("probe: no row");
  ServerInfo info;
  info.version_num = static_cast<int>(r->Number(0, "version_num").value_or(0));
  info.is_replica = r->Number(0, "is_replica").value_or(0) == 1;
  info.has_statements = r->Number(0, "statements").value_or(0) == 1;
  std::string version(r->Text(0, "version"));
  std::string short_version = version.substr(0, version.find(' '));
  // Untyped, as postgres_exporter exports it.
  sink.Untyped(
      "pg_static", "Version string as reported by postgres",
      {{"version", std::string(r->Text(0, "full_version"))}, {"short_version", short_version}}, 1);
  sink.Gauge("pg_postmaster_start_time_seconds", "Time at which postmaster started", {},
             r->Number(0, "start_time").value_or(0));
  sink.Gauge("pg_replication_is_replica", "Indicates if the server is a replica", {},
             info.is_replica ? 1 : 0);
  return info;
}

}  // namespace vigil::collectors
