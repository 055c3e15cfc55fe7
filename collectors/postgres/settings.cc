#include <array>

#include "collectors/postgres/views.h"

namespace vigil::collectors {
namespace {

// The settings that matter on call, exported as pg_settings_<name>[_bytes|_seconds].
constexpr std::array kSettings{
    "max_connections",
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "max_wal_size",
    "checkpoint_timeout",
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "lock_timeout",
    "deadlock_timeout",
    "autovacuum",
    "track_io_timing",
    "max_locks_per_transaction",
    "superuser_reserved_connections",
    "pg_stat_statements.max",
    "random_page_cost",
    "max_parallel_workers",
    "autovacuum_freeze_max_age",
    "autovacuum_multixact_freeze_max_age",
    "max_slot_wal_keep_size",
};

// pg_settings units and their scale to base units (bytes, seconds).
struct UnitScale {
  std::string_view unit;
  std::string_view suffix;
  double scale;
};
constexpr std::array<UnitScale, 8> kUnits{{
    {"B", "_bytes", 1},
    {"kB", "_bytes", 1024},
    {"8kB", "_bytes", 8192},
    {"MB", "_bytes", 1024 * 1024},
    {"16MB", "_bytes", 16 * 1024 * 1024},
    {"ms", "_seconds", 0.001},
    {"s", "_seconds", 1},
    {"min", "_seconds", 60},
}};

}  // namespace

Status CollectSettings(QueryRunner& db, const ServerInfo&, MetricSink& sink) {
  std::string list;
  for (const char* name : kSettings) {
    if (!list.empty()) list += ", ";
    list += "'" + std::string(name) + "'";
  }
  Result<QueryResult> r = db.Query(
      "SELECT name, setting, coalesce(unit, '') AS unit, vartype FROM pg_settings "
      "WHERE name IN (" +
      list + ")");
  if (!r.ok()) return r.status().WithContext("pg_settings");
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    std::string name(r->Text(i, "name"));
    for (char& c : name) {
      if (c == '.') c = '_';
    }
    std::optional<double> value;
    std::string_view setting = r->Text(i, "setting");
    if (r->Text(i, "vartype") == "bool") {
      value = setting == "on" ? 1.0 : 0.0;
    } else {
      value = r->Number(i, "setting");
    }
    if (!value) continue;
    std::string_view suffix;
    double scale = 1;
    for (const UnitScale& u : kUnits) {
      if (u.unit == r->Text(i, "unit")) {
        suffix = u.suffix;
        scale = u.scale;
      }
    }
    sink.Gauge("pg_settings_" + name + std::string(suffix),
               "Server Parameter: " + std::string(r->Text(i, "name")), {},
               *value < 0 ? *value : *value * scale);
  }
  return Status::Ok();
}

}  // namespace vigil::collectors
