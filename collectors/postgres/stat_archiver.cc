#include "collectors/postgres/views.h"

namespace vigil::collectors {

Status CollectStatArchiver(QueryRunner& db, const ServerInfo&, MetricSink& sink) {
  Result<QueryResult> r = db.Query(
      "SELECT archived_count, failed_count, "
      "extract(epoch from now() - last_archived_time) AS last_archive_age, "
      "extract(epoch from now() - last_failed_time) AS last_failed_age, "
      "last_failed_time IS NOT NULL AND (last_archived_time IS NULL "
      "OR last_failed_time > last_archived_time) AS failing "
      "FROM pg_stat_archiver");
  if (!r.ok()) return r.status().WithContext("pg_stat_archiver");
  if (r->rows.empty()) return Status::Ok();
  if (std::optional<double> v = r->Number(0, "archived_count")) {
    sink.Counter("pg_stat_archiver_archived_count",
                 "Number of WAL files that have been successfully archived", {}, *v);
  }
  if (std::optional<double> v = r->Number(0, "failed_count")) {
    sink.Counter("pg_stat_archiver_failed_count",
                 "Number of failed attempts for archiving WAL files", {}, *v);
  }
  // NULL (never archived / never failed since the stats reset): no series.
  if (std::optional<double> v = r->Number(0, "last_archive_age")) {
    sink.Gauge("pg_stat_archiver_last_archive_age",
               "Time in seconds since last WAL segment was successfully archived", {}, *v);
  }
  if (std::optional<double> v = r->Number(0, "last_failed_age")) {
    sink.Gauge("pg_stat_archiver_last_failed_age",
               "Time in seconds since the last failed attempt to archive a WAL segment", {}, *v);
  }
  sink.Gauge("pg_stat_archiver_failing",
             "1 when the last archive attempt failed (last failure after last success)", {},
             r->Number(0, "failing").value_or(0));
  return Status::Ok();
}

}  // namespace vigil::collectors
