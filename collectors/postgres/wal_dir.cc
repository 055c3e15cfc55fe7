#include "collectors/postgres/views.h"

namespace vigil::collectors {

Status CollectWalDir(QueryRunner& db, const ServerInfo&, MetricSink& sink) {
  // pg_ls_waldir() is granted to pg_monitor; summed in the server, so one row whatever the
  // number of files. Segments only (24 hex digits), as postgres_exporter counts them.
  Result<QueryResult> r = db.Query(
      "SELECT count(*) AS segments, coalesce(sum(size), 0) AS size FROM pg_ls_waldir() "
      "WHERE name ~ '^[0-9A-F]{24}$'");
  if (!r.ok()) return r.status().WithContext("pg_ls_waldir");
  if (r->rows.empty()) return Status::Ok();
  sink.Gauge("pg_wal_segments", "Number of WAL segments", {}, r->Number(0, "segments").value_or(0));
  sink.Gauge("pg_wal_size_bytes", "Total size of WAL segments", {},
             r->Number(0, "size").value_or(0));
  return Status::Ok();
}

}  // namespace vigil::collectors
