#include "collectors/postgres/views.h"

#include <catch2/catch.hpp>
#include <map>

#include "collectors/postgres/statements.h"
#include "tests/support/snapshot_util.h"

namespace vigil {
namespace {

using testing::FindValue;

// Answers queries by the first script key found in the SQL text; records what it ran.
class ScriptedRunner final : public QueryRunner {
 public:
  std::vector<std::pair<std::string, Result<QueryResult>>> script;
  std::vector<std::string> ran;
  Result<QueryResult> Query(std::string_view sql) override {
    ran.emplace_back(sql);
    for (const auto& [key, result] : script) {
      if (sql.find(key) != std::string_view::npos) return result;
    }
    return Status::Unavailable("unexpected query: " + std::string(sql));
  }
};

QueryResult Table(std::vector<std::string> columns,
                  std::vector<std::vector<std::optional<std::string>>> rows) {
  return QueryResult{std::move(columns), std::move(rows)};
}

TEST_CASE("pg_stat_database: NULLs are skipped, never abort, and names follow postgres_exporter",
          "[postgres]") {
  ScriptedRunner db;
  db.script.push_back({"FROM pg_stat_database",
                       Table({"datid", "datname", "numbackends", "xact_commit", "blks_read",
                              "blks_hit", "deadlocks", "size"},
                             {{"5", "shop", "3", "1000", "10", "990", std::nullopt, "8000000"},
                              {"1", "template1", "0", "1", "0", "0", "0", std::nullopt}})});
  MetricSink sink;
  REQUIRE(CollectStatDatabase(db, ServerInfo{150000}, sink).ok());
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pg_stat_database_numbackends", {{"datname", "shop"}}) == 3);
  CHECK(FindValue(s, "pg_stat_database_xact_commit", {{"datname", "shop"}, {"datid", "5"}}) ==
        1000);
  CHECK_FALSE(FindValue(s, "pg_stat_database_deadlocks", {{"datname", "shop"}}).has_value());
  CHECK(FindValue(s, "pg_stat_database_deadlocks", {{"datname", "template1"}}) == 0);
  CHECK(FindValue(s, "pg_database_size_bytes", {{"datname", "shop"}}) == 8000000);
  CHECK_FALSE(FindValue(s, "pg_database_size_bytes", {{"datname", "template1"}}).has_value());
}

TEST_CASE("pg_stat_activity fills every state with 0 and counts waits", "[postgres]") {
  ScriptedRunner db;
  db.script.push_back(
      {"FROM pg_database d LEFT JOIN",
       Table({"datname", "state", "wait_event_type", "count", "max_tx", "max_query", "max_idle_tx"},
             {{"shop", "active", std::nullopt, "2", "1.5", "1.5", std::nullopt},
              {"shop", "active", "Lock", "1", "30", "30", std::nullopt},
              {"shop", "idle in transaction", std::nullopt, "1", "100", std::nullopt, "95"},
              {"postgres", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
               std::nullopt}})});
  MetricSink sink;
  REQUIRE(CollectStatActivity(db, ServerInfo{150000}, sink).ok());
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pg_stat_activity_count", {{"datname", "shop"}, {"state", "active"}}) == 3);
  CHECK(FindValue(s, "pg_stat_activity_count", {{"datname", "postgres"}, {"state", "idle"}}) == 0);
  CHECK(FindValue(s, "pg_stat_activity_max_tx_duration",
                  {{"datname", "shop"}, {"state", "idle in transaction"}}) == 100);
  CHECK(FindValue(s, "pg_stat_activity_active_waiting_count",
                  {{"datname", "shop"}, {"wait_event_type", "Lock"}}) == 1);
  CHECK(FindValue(s, "pg_stat_activity_active_waiting_count",
                  {{"datname", "shop"}, {"wait_event_type", "none"}}) == 2);
  CHECK(FindValue(s, "pg_stat_activity_oldest_query_seconds", {{"datname", "shop"}}) == 30);
  CHECK(FindValue(s, "pg_stat_activity_oldest_idle_in_transaction_seconds",
                  {{"datname", "shop"}}) == 95);
}

TEST_CASE("Version-specific queries: PG13 total_exec_time, PG14 toplevel, PG17 renames",
          "[postgres]") {
  CHECK(StatementsQuery(120000).find("total_time,") != std::string::npos);
  CHECK(StatementsQuery(130000).find("total_exec_time") != std::string::npos);
  CHECK(StatementsQuery(130000).find("true AS toplevel") != std::string::npos);
  CHECK(StatementsQuery(150000).find("toplevel AS toplevel") != std::string::npos);
  CHECK(StatementsQuery(170000).find("shared_blk_read_time") != std::string::npos);
  CHECK(StatementsQuery(150000).find("pg_stat_statements(false)") != std::string::npos);

  ScriptedRunner pg17;
  pg17.script.push_back(
      {"pg_stat_checkpointer", Table({"checkpoints_timed", "buffers_alloc"}, {{"7", "100"}})});
  MetricSink sink;
  REQUIRE(CollectBgwriter(pg17, ServerInfo{170000}, sink).ok());
  CHECK(FindValue(sink.Take(), "pg_stat_bgwriter_checkpoints_timed_total") == 7);
}

TEST_CASE("Blocking: waiters, their blockers and the oldest wait", "[postgres]") {
  ScriptedRunner db;
  db.script.push_back({"FROM pg_database d LEFT JOIN pg_locks",
                       Table({"datname", "mode", "count"},
                             {{"shop", "rowexclusivelock", "2"}, {"shop", "exclusivelock", "1"}})});
  db.script.push_back(
      {"WHERE NOT l.granted",
       Table(
           {"pid", "datname", "usename", "application_name", "client_addr", "query_id",
            "wait_seconds", "mode", "locktype", "relation", "blocked_by", "query"},
           {{"200", "shop", "app", "shop", "127.0.0.1", "42", "12.5", "ShareLock", "transactionid",
             std::nullopt, "{100}", "UPDATE orders SET note = 'waiter-secret' WHERE id = 7"}})});
  db.script.push_back(
      {"WHERE pid IN (100)", Table({"pid", "datname", "usename", "state", "xact_seconds", "query"},
                                   {{"100", "shop", "app", "idle in transaction", "20",
                                     "ALTER ROLE app PASSWORD 'blocker-secret'"}})});
  MetricSink sink;
  REQUIRE(CollectLocks(db, ServerInfo{150000}, sink).ok());
  auto attachments = sink.TakeAttachments();
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pg_locks_count", {{"datname", "shop"}, {"mode", "rowexclusivelock"}}) == 2);
  CHECK(FindValue(s, "pg_locks_count", {{"datname", "shop"}, {"mode", "accesssharelock"}}) == 0);
  CHECK(FindValue(s, "pg_locks_waiting_sessions", {{"datname", "shop"}}) == 1);
  CHECK(FindValue(s, "pg_locks_oldest_wait_seconds", {{"datname", "shop"}}) == 12.5);
  const std::string& doc = attachments["blocking"];
  CHECK(doc.find("\"blocked_by\":[100]") != std::string::npos);
  CHECK(doc.find("\"state\":\"idle in transaction\"") != std::string::npos);
  // Activity texts are shown with every literal masked.
  CHECK(doc.find("UPDATE orders SET note = ? WHERE id = ?") != std::string::npos);
  CHECK(doc.find("ALTER ROLE app PASSWORD ?") != std::string::npos);
  CHECK(doc.find("secret") == std::string::npos);
}

TEST_CASE("A failing query is an error of that view only", "[postgres]") {
  ScriptedRunner db;  // no script: every query fails
  MetricSink sink;
  Status s = CollectStatDatabase(db, ServerInfo{150000}, sink);
  CHECK_FALSE(s.ok());
  CHECK(s.message().starts_with("pg_stat_database: unexpected query"));
}

}  // namespace
}  // namespace vigil
