#include <array>

#include "collectors/postgres/views.h"

namespace vigil::collectors {
namespace {

// pg_stat_wal (PostgreSQL 14+), as pg_stat_wal_<column>_total. PostgreSQL 18 moved the
// write and sync counts and times to pg_stat_io.
struct WalColumn {
  const char* column;
  const char* name;
  double scale;
  int until;  // last version (exclusive) that has the column; 0: all
  const char* help;
};
constexpr std::array<WalColumn, 8> kColumns{{
    {"wal_records", "pg_stat_wal_wal_records_total", 1, 0, "WAL records generated"},
    {"wal_fpi", "pg_stat_wal_wal_fpi_total", 1, 0, "WAL full page images generated"},
    {"wal_bytes", "pg_stat_wal_wal_bytes_total", 1, 0, "WAL generated in bytes"},
    {"wal_buffers_full", "pg_stat_wal_wal_buffers_full_total", 1, 0,
     "Times WAL was written to disk because the WAL buffers were full"},
    {"wal_write", "pg_stat_wal_wal_write_total", 1, 180000,
     "Times WAL buffers were written out to disk"},
    {"wal_sync", "pg_stat_wal_wal_sync_total", 1, 180000, "Times WAL files were synced to disk"},
    {"wal_write_time", "pg_stat_wal_wal_write_seconds_total", 0.001, 180000,
     "Time spent writing WAL buffers to disk (track_wal_io_timing)"},
    {"wal_sync_time", "pg_stat_wal_wal_sync_seconds_total", 0.001, 180000,
     "Time spent syncing WAL files to disk (track_wal_io_timing)"},
}};

}  // namespace

Status CollectStatWal(QueryRunner& db, const ServerInfo& info, MetricSink& sink) {
  if (info.version_num < 140000) return Status::Ok();  // no pg_stat_wal before 14
  std::string columns;
  for (const WalColumn& c : kColumns) {
    if (c.until && info.version_num >= c.until) continue;
    columns += std::string(columns.empty() ? "" : ", ") + c.column;
  }
  Result<QueryResult> r = db.Query("SELECT " + columns + " FROM pg_stat_wal");
  if (!r.ok()) return r.status().WithContext("pg_stat_wal");
  if (r->rows.empty()) return Status::Ok();
  for (const WalColumn& c : kColumns) {
    if (std::optional<double> v = r->Number(0, c.column)) {
      sink.Counter(c.name, c.help, {}, *v * c.scale);
    }
  }
  return Status::Ok();
}

}  // namespace vigil::collectors
