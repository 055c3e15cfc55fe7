#include "collectors/postgres/views.h"

namespace vigil::collectors {

Status CollectTableFreezeAge(QueryRunner& db, const ServerInfo&, int limit, MetricSink& sink) {
  // Tables, materialized views and TOAST tables: the ones whose relfrozenxid holds the
  // database's datfrozenxid back, oldest first.
  Result<QueryResult> r = db.Query(
      "SELECT current_database() AS datname, n.nspname AS schemaname, c.relname, "
      "age(c.relfrozenxid) AS xid_age, mxid_age(c.relminmxid) AS mxid_age "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 'm', 't') "
      "ORDER BY age(c.relfrozenxid) DESC LIMIT " +
      std::to_string(limit));
  if (!r.ok()) return r.status().WithContext("pg_class relfrozenxid");
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    Labels l{{"datname", std::string(r->Text(i, "datname"))},
             {"schemaname", std::string(r->Text(i, "schemaname"))},
             {"relname", std::string(r->Text(i, "relname"))}};
    if (std::optional<double> v = r->Number(i, "xid_age")) {
      sink.Gauge("pg_table_frozenxid_age", "age(relfrozenxid) of the oldest tables (transactions)",
                 l, *v);
    }
    if (std::optional<double> v = r->Number(i, "mxid_age")) {
      sink.Gauge("pg_table_minmxid_age", "mxid_age(relminmxid) of the oldest tables (multixacts)",
                 l, *v);
    }
  }
  return Status::Ok();
}

}  // namespace vigil::collectors
