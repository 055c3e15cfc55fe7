#include "collectors/postgres/views.h"

namespace vigil::collectors {

Status CollectReplication(QueryRunner& db, const ServerInfo& info, MetricSink& sink) {
  if (info.is_replica) {
    Result<QueryResult> r = db.Query(
        "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
        "ELSE greatest(0, extract(epoch from now() - pg_last_xact_replay_timestamp())) END AS lag");
    if (!r.ok()) return r.status().WithContext("replication lag");
    if (!r->rows.empty()) {
      sink.Gauge("pg_replication_lag_seconds", "Replication lag behind master in seconds", {},
                 r->Number(0, "lag").value_or(0));
    }
    return Status::Ok();
  }
  Result<QueryResult> r = db.Query(
      "SELECT application_name, coalesce(host(client_addr), '') AS client_addr, state, "
      "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS replay_lag_bytes, "
      "extract(epoch from write_lag) AS write_lag, extract(epoch from flush_lag) AS flush_lag, "
      "extract(epoch from replay_lag) AS replay_lag FROM pg_stat_replication");
  if (!r.ok()) return r.status().WithContext("pg_stat_replication");
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    Labels l{{"application_name", std::string(r->Text(i, "application_name"))},
             {"client_addr", std::string(r->Text(i, "client_addr"))},
             {"state", std::string(r->Text(i, "state"))}};
    sink.Gauge("pg_stat_replication_pg_wal_lsn_diff", "Lag in bytes between master and replica", l,
               r->Number(i, "replay_lag_bytes").value_or(0));
    // NULL once a caught-up replica has been idle for a while: no lag.
    for (const char* lag : {"write_lag", "flush_lag", "replay_lag"}) {
      sink.Gauge(std::string("pg_stat_replication_") + lag + "_seconds",
                 "Time from a local WAL flush to the replica's write, flush or replay of it", l,
                 r->Number(i, lag).value_or(0));
    }
  }
  sink.Gauge("pg_stat_replication_replicas", "Replicas connected to this server", {},
             static_cast<double>(r->rows.size()));
  return Status::Ok();
}

}  // namespace vigil::collectors
