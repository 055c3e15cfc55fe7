#include <array>

#include "collectors/postgres/views.h"

namespace vigil::collectors {
namespace {

// pg_replication_slots.wal_status (13+), exported as a state set: one series per state, 1 for
// the slot's, so a change never leaves a stale series behind and `== 1` works as with
// postgres_exporter (which exports only the current state's series).
constexpr std::array<const char*, 4> kWalStatus{"reserved", "extended", "unreserved", "lost"};

}  // namespace

Status CollectReplicationSlots(QueryRunner& db, const ServerInfo& info, MetricSink& sink) {
  bool v13 = info.version_num >= 130000;
  // Retained WAL: from restart_lsn to the current LSN (the replay LSN on a replica).
  std::string current = info.is_replica ? "pg_last_wal_replay_lsn()" : "pg_current_wal_lsn()";
  Result<QueryResult> r =
      db.Query("SELECT slot_name, slot_type, active, pg_wal_lsn_diff(" + current +
               ", restart_lsn) AS retained_bytes, age(xmin) AS xmin_age, "
               "age(catalog_xmin) AS catalog_xmin_age, " +
               std::string(v13 ? "wal_status, safe_wal_size"
                               : "NULL::text AS wal_status, "
                                 "NULL::bigint AS safe_wal_size") +
               " FROM pg_replication_slots");
  if (!r.ok()) return r.status().WithContext("pg_replication_slots");
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    Labels l{{"slot_name", std::string(r->Text(i, "slot_name"))},
             {"slot_type", std::string(r->Text(i, "slot_type"))}};
    sink.Gauge("pg_replication_slot_slot_is_active",
               "whether the replication slot is active or not", l,
               r->Number(i, "active").value_or(0));
    // NULL restart_lsn: the slot reserves no WAL (never used, or its WAL was lost).
    sink.Gauge("pg_replication_slot_retained_wal_bytes",
               "WAL kept for this slot: bytes from its restart_lsn to the current (replay) LSN", l,
               std::max(0.0, r->Number(i, "retained_bytes").value_or(0)));
    if (std::optional<double> v = r->Number(i, "xmin_age")) {
      sink.Gauge("pg_replication_slot_xmin_age", "age(xmin) of the slot (transactions)", l, *v);
    }
    if (std::optional<double> v = r->Number(i, "catalog_xmin_age")) {
      sink.Gauge("pg_replication_slot_catalog_xmin_age",
                 "age(catalog_xmin) of the slot (transactions)", l, *v);
    }
    // NULL when max_slot_wal_keep_size is -1 (no limit) or the slot is lost.
    if (std::optional<double> v = r->Number(i, "safe_wal_size")) {
      sink.Gauge("pg_replication_slot_safe_wal_size_bytes",
                 "number of bytes that can be written to WAL such that this slot is not in "
                 "danger of getting in state lost",
                 l, *v);
    }
    std::string_view status = r->Text(i, "wal_status");
    if (status.empty()) continue;
    for (const char* s : kWalStatus) {
      Labels sl = l;
      sl.Set("wal_status", s);
      sink.Gauge("pg_replication_slot_wal_status",
                 "availability of WAL files claimed by this slot (1: its current state)", sl,
                 status == s ? 1 : 0);
    }
  }
  sink.Gauge("pg_replication_slots", "Replication slots on this server", {},
             static_cast<double>(r->rows.size()));
  return Status::Ok();
}

}  // namespace vigil::collectors
