#include "collectors/postgres/views.h"

namespace vigil::collectors {

Status CollectWraparound(QueryRunner& db, const ServerInfo&, MetricSink& sink) {
  // Ages in transactions (postgres_exporter's names say _seconds; the values are XID counts).
  // The ratios are against the age at which autovacuum forces an anti-wraparound vacuum.
  // Every database, template0 too (postgres_exporter skips those without datallowconn): the
  // cluster stops at the oldest of them, and autovacuum freezes them all.
  Result<QueryResult> r = db.Query(
      "SELECT datname, age(datfrozenxid) AS xid_age, mxid_age(datminmxid) AS mxid_age, "
      "age(datfrozenxid)::float8 / "
      "nullif(current_setting('autovacuum_freeze_max_age')::float8, 0) AS xid_ratio, "
      "mxid_age(datminmxid)::float8 / "
      "nullif(current_setting('autovacuum_multixact_freeze_max_age')::float8, 0) AS mxid_ratio "
      "FROM pg_database");
  if (!r.ok()) return r.status().WithContext("pg_database wraparound");
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    std::string datname(r->Text(i, "datname"));
    if (std::optional<double> v = r->Number(i, "xid_age")) {
      sink.Gauge("pg_database_wraparound_age_datfrozenxid_seconds",
                 "Age of the oldest transaction ID that has not been frozen (transactions)",
                 {{"datname", datname}}, *v);
    }
    if (std::optional<double> v = r->Number(i, "mxid_age")) {
      sink.Gauge("pg_database_wraparound_age_datminmxid_seconds",
                 "Age of the oldest multixact ID that has not been frozen (multixacts)",
                 {{"datname", datname}}, *v);
    }
    const char* kHelp =
        "Frozen ID age over autovacuum_freeze_max_age (xid) or "
        "autovacuum_multixact_freeze_max_age (multixact): 1 forces an anti-wraparound vacuum";
    if (std::optional<double> v = r->Number(i, "xid_ratio")) {
      sink.Gauge("pg_database_wraparound_freeze_ratio", kHelp,
                 {{"datname", datname}, {"kind", "xid"}}, *v);
    }
    if (std::optional<double> v = r->Number(i, "mxid_ratio")) {
      sink.Gauge("pg_database_wraparound_freeze_ratio", kHelp,
                 {{"datname", datname}, {"kind", "multixact"}}, *v);
    }
  }
  return Status::Ok();
}

}  // namespace vigil::collectors
