#include <array>
#include <map>
#include <set>

#include "collectors/postgres/views.h"

namespace vigil::collectors {
namespace {

constexpr std::array<const char*, 6> kStates{"active",
                                             "idle",
                                             "idle in transaction",
                                             "idle in transaction (aborted)",
                                             "fastpath function call",
                                             "disabled"};

}  // namespace

Status CollectStatActivity(QueryRunner& db, const ServerInfo&, MetricSink& sink) {
  // One pass over client backends: per database and state, and per wait event type.
  Result<QueryResult> r = db.Query(
      "SELECT d.datname, a.state, a.wait_event_type, a.count, a.max_tx, a.max_query, a.max_idle_tx "
      "FROM pg_database d LEFT JOIN ("
      "  SELECT datname, state, wait_event_type, count(*) AS count, "
      "    max(extract(epoch from now() - xact_start)) AS max_tx, "
      "    max(CASE WHEN state = 'active' THEN extract(epoch from now() - query_start) END) "
      "      AS max_query, "
      "    max(CASE WHEN state LIKE 'idle in transaction%' "
      "      THEN extract(epoch from now() - state_change) END) AS max_idle_tx "
      "  FROM pg_stat_activity WHERE backend_type = 'client backend' "
      "  GROUP BY datname, state, wait_event_type) a ON a.datname = d.datname "
      "WHERE NOT d.datistemplate");
  if (!r.ok()) return r.status().WithContext("pg_stat_activity");
  std::set<std::string> databases;
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> by_state;
  std::map<std::pair<std::string, std::string>, double> waiting;
  std::map<std::string, std::array<double, 2>> oldest;  // query, idle in transaction
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    std::string datname(r->Text(i, "datname"));
    databases.insert(datname);
    std::optional<double> count = r->Number(i, "count");
    if (!count) continue;
    std::string state(r->Text(i, "state"));
    auto& s = by_state[{datname, state}];
    s.first += *count;
    s.second = std::max(s.second, r->Number(i, "max_tx").value_or(0));
    if (state == "active") {
      std::string wait(r->Text(i, "wait_event_type"));
      waiting[{datname, wait.empty() ? "none" : wait}] += *count;
    }
    auto& o = oldest[datname];
    o[0] = std::max(o[0], r->Number(i, "max_query").value_or(0));
    o[1] = std::max(o[1], r->Number(i, "max_idle_tx").value_or(0));
  }
  for (const std::string& datname : databases) {
    for (const char* state : kStates) {
      auto it = by_state.find({datname, state});
      Labels l{{"datname", datname}, {"state", state}};
      sink.Gauge("pg_stat_activity_count", "number of connections in this state", l,
                 it == by_state.end() ? 0 : it->second.first);
      sink.Gauge("pg_stat_activity_max_tx_duration",
                 "max duration in seconds any active transaction has been running", l,
                 it == by_state.end() ? 0 : it->second.second);
    }
    auto o = oldest[datname];
    sink.Gauge("pg_stat_activity_oldest_query_seconds", "Age of the longest-running active query",
               {{"datname", datname}}, o[0]);
    sink.Gauge("pg_stat_activity_oldest_idle_in_transaction_seconds",
               "Longest time a session has sat idle in a transaction", {{"datname", datname}},
               o[1]);
  }
  for (const auto& [key, n] : waiting) {
    sink.Gauge("pg_stat_activity_active_waiting_count",
               "Active sessions by the type of event they wait on (none: on CPU)",
               {{"datname", key.first}, {"wait_event_type", key.second}}, n);
  }
  return Status::Ok();
}

Status CollectActivityTop(QueryRunner& db, const ServerInfo&, int limit, MetricSink& sink) {
  // application_name is whatever a client sets (at most 63 bytes): the groups are bounded by
  // `limit`, the rest counted together.
  Result<QueryResult> r = db.Query(
      "SELECT coalesce(application_name, '') AS application_name, "
      "coalesce(usename::text, '') AS usename, count(*) AS count "
      "FROM pg_stat_activity WHERE backend_type = 'client backend' "
      "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2");
  if (!r.ok()) return r.status().WithContext("sessions by application");
  double other = 0;
  for (std::size_t i = 0; i < r->rows.size(); ++i) {
    double n = r->Number(i, "count").value_or(0);
    if (i >= static_cast<std::size_t>(limit)) {
      other += n;
      continue;
    }
    sink.Gauge("pg_stat_activity_sessions",
               "Client sessions by application_name and user (the activity_top_n largest groups)",
               {{"application_name", std::string(r->Text(i, "application_name"))},
                {"usename", std::string(r->Text(i, "usename"))}},
               n);
  }
  sink.Gauge("pg_stat_activity_sessions_other",
             "Client sessions outside the activity_top_n largest (application_name, user) groups",
             {}, other);
  Result<QueryResult> w = db.Query(
      "SELECT wait_event_type, wait_event, count(*) AS count FROM pg_stat_activity "
      "WHERE backend_type = 'client backend' AND state = 'active' AND wait_event IS NOT NULL "
      "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT " +
      std::to_string(limit));
  if (!w.ok()) return w.status().WithContext("waits by event");
  for (std::size_t i = 0; i < w->rows.size(); ++i) {
    sink.Gauge("pg_stat_activity_wait_event_count",
               "Active client sessions by the event they wait on (the activity_top_n most common)",
               {{"wait_event_type", std::string(w->Text(i, "wait_event_type"))},
                {"wait_event", std::string(w->Text(i, "wait_event"))}},
               w->Number(i, "count").value_or(0));
  }
  return Status::Ok();
}

}  // namespace vigil::collectors
