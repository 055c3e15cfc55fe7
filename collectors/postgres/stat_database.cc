#include <array>

#include "collectors/postgres/views.h"

namespace vigil::collectors {
namespace {

constexpr std::array<ViewColumn, 17> kColumns{{
    {"numbackends", false, "Number of backends currently connected to this database"},
    {"xact_commit", true, "Number of transactions in this database that have been committed"},
    {"xact_rollback", true, "Number of transactions in this database that have been rolled back"},
    {"blks_read", true, "Number of disk blocks read in this database"},
    {"blks_hit", true, "Number of times disk blocks were found already in the buffer cache"},
    {"tup_returned", true, "Number of rows returned by queries in this database"},
    {"tup_fetched", true, "Number of rows fetched by queries in this database"},
    {"tup_inserted", true, "Number of rows inserted by queries in this database"},
    {"tup_updated", true, "Number of rows updated by queries in this database"},
    {"tup_deleted", true, "Number of rows deleted by queries in this database"},
    {"conflicts", true, "Number of queries canceled due to conflicts with recovery"},
    {"temp_files", true, "Number of temporary files created by queries in this database"},
    {"temp_bytes", true, "Total amount of data written to temporary files by queries"},
    {"deadlocks", true, "Number of deadlocks detected in this database"},
    {"blk_read_time", true, "Time spent reading data file blocks by backends, in milliseconds"},
    {"blk_write_time", true, "Time spent writing data file blocks by backends, in milliseconds"},
    {"stats_reset", true, "Time at which these statistics were last reset"},
}};

}  // namespace

Status CollectStatDatabase(QueryRunner& db, const ServerInfo& info, MetricSink& sink) {
  // PG17 renamed nothing here; PG12 lacks nothing we read. Sizes need CONNECT or
  // pg_read_all_stats (part of pg_monitor).
  (void)info;
  Result<QueryResult> r = db.Query(
      "SELECT datid, datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit, "
      "tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, conflicts, temp_files, "
      "temp_bytes, deadlocks, blk_read_time, blk_write_time, "
      "coalesce(extract(epoch from stats_reset), 0) AS stats_reset, "
      "CASE WHEN has_database_privilege(datname, 'CONNECT') "
      "  OR pg_has_role('pg_read_all_stats', 'MEMBER') THEN pg_database_size(datid) END AS size "
      "FROM pg_stat_database WHERE datname IS NOT NULL");
  if (!r.ok()) return r.status().WithContext("pg_stat_database");
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    std::string datname(r->Text(i, "datname"));
    Labels l{{"datid", std::string(r->Text(i, "datid"))}, {"datname", datname}};
    for (const ViewColumn& c : kColumns) {
      EmitViewColumn(sink, *r, i, "pg_stat_database_", c, l, std::nullopt);
    }
    if (std::optional<double> size = r->Number(i, "size")) {
      sink.Gauge("pg_database_size_bytes", "Disk space used by the database",
                 {{"datname", datname}}, *size);
    }
  }
  return Status::Ok();
}

}  // namespace vigil::collectors
