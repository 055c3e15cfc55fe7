#include <array>
#include <map>
#include <nlohmann/json.hpp>

#include "collectors/postgres/views.h"

namespace vigil::collectors {
namespace {

// What can hold the xmin horizon back; every kind is exported (0: nothing holds it).
constexpr std::array<const char*, 6> kKinds{
    "transaction",           "idle_in_transaction",           "prepared_transaction",
    "replication_slot_xmin", "replication_slot_catalog_xmin", "standby_feedback"};

constexpr int kHoldersPerKind = 10;

}  // namespace

Status CollectXminHorizon(QueryRunner& db, const ServerInfo&, MetricSink& sink) {
  // One row per holder, at most kHoldersPerKind per kind, oldest first. Never the query text.
  // Ages in seconds only where PostgreSQL knows when the hold started (slots and standby
  // feedback carry no time).
  Result<QueryResult> r = db.Query(
      "SELECT * FROM (SELECT h.*, row_number() OVER (PARTITION BY kind ORDER BY age_xids DESC) "
      "AS rn FROM ("
      "  SELECT CASE WHEN state LIKE 'idle in transaction%' THEN 'idle_in_transaction' "
      "    ELSE 'transaction' END AS kind, pid, datname, usename, application_name, "
      "    backend_type, state, NULL::text AS name, "
      "    greatest(age(backend_xid), age(backend_xmin)) AS age_xids, "
      "    extract(epoch from now() - xact_start) AS age_seconds "
      "  FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type <> 'walsender' "
      "    AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL) "
      "  UNION ALL SELECT 'prepared_transaction', NULL, database, owner, NULL, NULL, NULL, gid, "
      "    age(transaction), extract(epoch from now() - prepared) FROM pg_prepared_xacts "
      "  UNION ALL SELECT 'replication_slot_xmin', active_pid, database, NULL, NULL, slot_type, "
      "    CASE WHEN active THEN 'active' ELSE 'inactive' END, slot_name, age(xmin), NULL "
      "  FROM pg_replication_slots WHERE xmin IS NOT NULL "
      "  UNION ALL SELECT 'replication_slot_catalog_xmin', active_pid, database, NULL, NULL, "
      "    slot_type, CASE WHEN active THEN 'active' ELSE 'inactive' END, slot_name, "
      "    age(catalog_xmin), NULL FROM pg_replication_slots WHERE catalog_xmin IS NOT NULL "
      "  UNION ALL SELECT 'standby_feedback', pid, NULL, usename, application_name, "
      "    'walsender', state, host(client_addr), age(backend_xmin), NULL "
      "  FROM pg_stat_replication WHERE backend_xmin IS NOT NULL"
      ") h) t WHERE rn <= " +
      std::to_string(kHoldersPerKind) + " ORDER BY kind, rn");
  if (!r.ok()) return r.status().WithContext("xmin horizon");
  std::map<std::string, std::pair<double, std::optional<double>>> oldest;  // xids, seconds
  nlohmann::json holders = nlohmann::json::array();
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    std::string kind(r->Text(i, "kind"));
    std::optional<double> xids = r->Number(i, "age_xids");
    std::optional<double> seconds = r->Number(i, "age_seconds");
    auto& o = oldest[kind];
    if (xids && *xids >= o.first) {
      o.first = *xids;
      o.second = seconds;
    }
    nlohmann::json h = {{"kind", kind},
                        {"datname", r->Text(i, "datname")},
                        {"user", r->Text(i, "usename")},
                        {"application_name", r->Text(i, "application_name")},
                        {"backend_type", r->Text(i, "backend_type")},
                        {"state", r->Text(i, "state")},
                        {"name", r->Text(i, "name")},
                        {"age_xids", static_cast<long long>(xids.value_or(0))}};
    std::optional<double> pid = r->Number(i, "pid");
    h["pid"] = pid ? nlohmann::json(static_cast<long long>(*pid)) : nlohmann::json();
    h["age_seconds"] = seconds ? nlohmann::json(*seconds) : nlohmann::json();
    holders.push_back(std::move(h));
  }
  for (const char* kind : kKinds) {
    auto it = oldest.find(kind);
    sink.Gauge("pg_xmin_horizon_age",
               "Age in transactions of the oldest xmin or xid of this kind holding the xmin "
               "horizon back (0: none)",
               {{"kind", kind}}, it == oldest.end() ? 0 : it->second.first);
    // Seconds are known for sessions and prepared transactions only.
    if (std::string_view(kind).starts_with("replication_slot") ||
        std::string_view(kind) == "standby_feedback") {
      continue;
    }
    sink.Gauge("pg_xmin_horizon_age_seconds",
               "Seconds since the oldest holder of this kind started its transaction (0: none)",
               {{"kind", kind}}, it == oldest.end() ? 0 : it->second.second.value_or(0));
  }
  nlohmann::json doc = {{"holders", holders}};
  sink.Attach("horizon", doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return Status::Ok();
}

}  // namespace vigil::collectors
