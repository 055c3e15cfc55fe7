#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "collectors/postgres/query_redaction.h"
#include "collectors/postgres/views.h"

namespace vigil::collectors {
namespace {

constexpr std::array<const char*, 9> kModes{
    "accessexclusivelock", "accesssharelock", "exclusivelock",         "rowexclusivelock",
    "rowsharelock",        "sharelock",       "sharerowexclusivelock", "shareupdateexclusivelock",
    "sireadlock"};

// "{12,34}" -> {12, 34}
std::vector<long> ParseIntArray(std::string_view text) {
  std::vector<long> out;
  long n = 0;
  bool in = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      n = n * 10 + (c - '0');
      in = true;
    } else if (in) {
      out.push_back(n);
      n = 0;
      in = false;
    }
  }
  return out;
}

}  // namespace

Status CollectLocks(QueryRunner& db, const ServerInfo& info, MetricSink& sink) {
  Result<QueryResult> counts = db.Query(
      "SELECT d.datname, lower(l.mode) AS mode, count(l.mode) AS count "
      "FROM pg_database d LEFT JOIN pg_locks l ON l.database = d.oid "
      "WHERE NOT d.datistemplate GROUP BY d.datname, lower(l.mode)");
  if (!counts.ok()) return counts.status().WithContext("pg_locks");
  std::map<std::pair<std::string, std::string>, double> by_mode;
  std::set<std::string> databases;
  for (std::size_t i = 0; i < counts->rows.size(); ++i) {
    std::string datname(counts->Text(i, "datname"));
    databases.insert(datname);
    if (!counts->Text(i, "mode").empty()) {
      by_mode[{datname, std::string(counts->Text(i, "mode"))}] =
          counts->Number(i, "count").value_or(0);
    }
  }
  for (const std::string& datname : databases) {
    for (const char* mode : kModes) {
      auto it = by_mode.find({datname, mode});
      sink.Gauge("pg_locks_count", "Number of locks", {{"datname", datname}, {"mode", mode}},
                 it == by_mode.end() ? 0 : it->second);
    }
  }

  // Sessions waiting on a lock, how long, and who blocks them. waitstart is PG14+. Query texts
  // are the raw statements (any literal can be a secret): cut to 500 characters in the server,
  // then every literal masked (RedactQueryText).
  std::string wait_seconds = info.version_num >= 140000
                                 ? "extract(epoch from now() - l.waitstart)"
                                 : "extract(epoch from now() - a.state_change)";
  std::string query_id = info.version_num >= 140000 ? "a.query_id::text" : "NULL::text";
  Result<QueryResult> waiters = db.Query(
      "SELECT a.pid, a.datname, a.usename, a.application_name, host(a.client_addr) AS "
      "client_addr, " +
      query_id + " AS query_id, " + wait_seconds +
      " AS wait_seconds, l.mode, l.locktype, l.relation::regclass::text AS relation, "
      "pg_blocking_pids(a.pid)::text AS blocked_by, left(a.query, 500) AS query "
      "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted "
      "ORDER BY wait_seconds DESC NULLS LAST LIMIT 100");
  if (!waiters.ok()) return waiters.status().WithContext("lock waits");
  std::map<std::string, std::pair<double, double>> per_db;  // count, oldest wait
  std::set<long> blocker_pids;
  nlohmann::json waits = nlohmann::json::array();
  for (std::size_t i = 0; i < waiters->rows.size(); ++i) {
    std::string datname(waiters->Text(i, "datname"));
    double wait = waiters->Number(i, "wait_seconds").value_or(0);
    auto& d = per_db[datname];
    d.first += 1;
    d.second = std::max(d.second, wait);
    std::vector<long> blockers = ParseIntArray(waiters->Text(i, "blocked_by"));
    blocker_pids.insert(blockers.begin(), blockers.end());
    waits.push_back({{"pid", waiters->Number(i, "pid").value_or(0)},
                     {"datname", datname},
                     {"user", waiters->Text(i, "usename")},
                     {"application_name", waiters->Text(i, "application_name")},
                     {"client_addr", waiters->Text(i, "client_addr")},
                     {"query_id", waiters->Text(i, "query_id")},
                     {"wait_seconds", wait},
                     {"mode", waiters->Text(i, "mode")},
                     {"locktype", waiters->Text(i, "locktype")},
                     {"relation", waiters->Text(i, "relation")},
                     {"blocked_by", blockers},
                     {"query", RedactQueryText(waiters->Text(i, "query"))}});
  }
  for (const std::string& datname : databases) {
    auto it = per_db.find(datname);
    sink.Gauge("pg_locks_waiting_sessions", "Sessions waiting to acquire a lock",
               {{"datname", datname}}, it == per_db.end() ? 0 : it->second.first);
    sink.Gauge("pg_locks_oldest_wait_seconds", "How long the oldest lock waiter has waited",
               {{"datname", datname}}, it == per_db.end() ? 0 : it->second.second);
  }
  nlohmann::json blockers = nlohmann::json::array();
  if (!blocker_pids.empty()) {
    std::string pids;
    for (long pid : blocker_pids) pids += (pids.empty() ? "" : ",") + std::to_string(pid);
    Result<QueryResult> b = db.Query(
        "SELECT pid, datname, usename, application_name, host(client_addr) AS client_addr, " +
        std::string(info.version_num >= 140000 ? "query_id::text" : "NULL::text") +
        " AS query_id, state, extract(epoch from now() - xact_start) AS xact_seconds, "
        "left(query, 500) AS query FROM pg_stat_activity WHERE pid IN (" +
        pids + ")");
    if (b.ok()) {
      for (std::size_t i = 0; i < b->rows.size(); ++i) {
        blockers.push_back({{"pid", b->Number(i, "pid").value_or(0)},
                            {"datname", b->Text(i, "datname")},
                            {"user", b->Text(i, "usename")},
                            {"application_name", b->Text(i, "application_name")},
                            {"client_addr", b->Text(i, "client_addr")},
                            {"query_id", b->Text(i, "query_id")},
                            {"state", b->Text(i, "state")},
                            {"xact_seconds", b->Number(i, "xact_seconds").value_or(0)},
                            {"query", RedactQueryText(b->Text(i, "query"))}});
      }
    }
  }
  nlohmann::json doc = {{"waiting", waits}, {"blockers", blockers}};
  sink.Attach("blocking", doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return Status::Ok();
}

}  // namespace vigil::collectors
