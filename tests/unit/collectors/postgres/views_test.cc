#include "collectors/postgres/views.h"

#include <catch2/catch.hpp>
#include <map>

#include "collectors/postgres/statements.h"
#include "tests/support/snapshot_util.h"

namespace vigil::collectors {
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

TEST_CASE("Sessions by application and user: the largest groups, the rest counted together",
          "[postgres]") {
  ScriptedRunner db;
  db.script.push_back(
      {"AS usename", Table({"application_name", "usename", "count"}, {{"shop", "app", "12"},
                                                                      {"", "postgres", "3"},
                                                                      {"psql", "ops", "2"},
                                                                      {"other", "x", "1"}})});
  db.script.push_back({"wait_event IS NOT NULL",
                       Table({"wait_event_type", "wait_event", "count"},
                             {{"Lock", "transactionid", "4"}, {"LWLock", "WALWrite", "1"}})});
  MetricSink sink;
  REQUIRE(CollectActivityTop(db, ServerInfo{150000}, 2, sink).ok());
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pg_stat_activity_sessions",
                  {{"application_name", "shop"}, {"usename", "app"}}) == 12);
  CHECK(FindValue(s, "pg_stat_activity_sessions",
                  {{"application_name", ""}, {"usename", "postgres"}}) == 3);
  // Past the limit: counted, not exported by name (a client named "other" included).
  CHECK_FALSE(
      FindValue(s, "pg_stat_activity_sessions", {{"application_name", "psql"}}).has_value());
  CHECK_FALSE(
      FindValue(s, "pg_stat_activity_sessions", {{"application_name", "other"}}).has_value());
  CHECK(FindValue(s, "pg_stat_activity_sessions_other") == 3);
  CHECK(FindValue(s, "pg_stat_activity_wait_event_count",
                  {{"wait_event_type", "Lock"}, {"wait_event", "transactionid"}}) == 4);
  REQUIRE(db.ran.size() == 2);
  CHECK(db.ran[1].find("LIMIT 2") != std::string::npos);  // the waits are bounded in SQL
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

TEST_CASE("Wraparound: ages per database and ratios of the freeze max ages", "[postgres]") {
  ScriptedRunner db;
  db.script.push_back(
      {"mxid_age(datminmxid) AS mxid_age",
       Table({"datname", "xid_age", "mxid_age", "xid_ratio", "mxid_ratio"},
             {{"shop", "150000000", "1000", "0.75", "0.0000025"},
              {"broken", std::nullopt, std::nullopt, std::nullopt, std::nullopt}})});
  MetricSink sink;
  REQUIRE(CollectWraparound(db, ServerInfo{150000}, sink).ok());
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pg_database_wraparound_age_datfrozenxid_seconds", {{"datname", "shop"}}) ==
        150000000);
  CHECK(FindValue(s, "pg_database_wraparound_age_datminmxid_seconds", {{"datname", "shop"}}) ==
        1000);
  CHECK(FindValue(s, "pg_database_wraparound_freeze_ratio",
                  {{"datname", "shop"}, {"kind", "xid"}}) == 0.75);
  CHECK(FindValue(s, "pg_database_wraparound_freeze_ratio",
                  {{"datname", "shop"}, {"kind", "multixact"}}) == 0.0000025);
  CHECK_FALSE(
      FindValue(s, "pg_database_wraparound_age_datfrozenxid_seconds", {{"datname", "broken"}})
          .has_value());
}

TEST_CASE("Table freeze age: the oldest tables, at most the limit", "[postgres]") {
  ScriptedRunner db;
  db.script.push_back(
      {"FROM pg_class c", Table({"datname", "schemaname", "relname", "xid_age", "mxid_age"},
                                {{"shop", "public", "orders", "5000", "7"}})});
  MetricSink sink;
  REQUIRE(CollectTableFreezeAge(db, ServerInfo{150000}, 3, sink).ok());
  CHECK(db.ran.at(0).ends_with("LIMIT 3"));
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pg_table_frozenxid_age", {{"relname", "orders"}, {"datname", "shop"}}) ==
        5000);
  CHECK(FindValue(s, "pg_table_minmxid_age", {{"relname", "orders"}}) == 7);
}

TEST_CASE("xmin horizon: oldest per kind, zeros for the rest, who in the attachment",
          "[postgres]") {
  ScriptedRunner db;
  db.script.push_back(
      {"pg_prepared_xacts",
       Table({"kind", "pid", "datname", "usename", "application_name", "backend_type", "state",
              "name", "age_xids", "age_seconds", "rn"},
             {{"idle_in_transaction", "4242", "shop", "app", "worker", "client backend",
               "idle in transaction", std::nullopt, "900", "61.5", "1"},
              {"idle_in_transaction", "4243", "shop", "app", "worker", "client backend",
               "idle in transaction", std::nullopt, "10", "2", "2"},
              {"prepared_transaction", std::nullopt, "shop", "app", std::nullopt, std::nullopt,
               std::nullopt, "gid-1", "300", "100", "1"},
              {"replication_slot_xmin", std::nullopt, std::nullopt, std::nullopt, std::nullopt,
               "physical", "inactive", "standby1", "5000", std::nullopt, "1"}})});
  MetricSink sink;
  REQUIRE(CollectXminHorizon(db, ServerInfo{150000}, sink).ok());
  auto attachments = sink.TakeAttachments();
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pg_xmin_horizon_age", {{"kind", "idle_in_transaction"}}) == 900);
  CHECK(FindValue(s, "pg_xmin_horizon_age_seconds", {{"kind", "idle_in_transaction"}}) == 61.5);
  CHECK(FindValue(s, "pg_xmin_horizon_age", {{"kind", "prepared_transaction"}}) == 300);
  CHECK(FindValue(s, "pg_xmin_horizon_age", {{"kind", "replication_slot_xmin"}}) == 5000);
  // No time is known for slots and standby feedback.
  CHECK_FALSE(
      FindValue(s, "pg_xmin_horizon_age_seconds", {{"kind", "replication_slot_xmin"}}).has_value());
  CHECK(FindValue(s, "pg_xmin_horizon_age", {{"kind", "standby_feedback"}}) == 0);
  CHECK(FindValue(s, "pg_xmin_horizon_age", {{"kind", "transaction"}}) == 0);
  CHECK(FindValue(s, "pg_xmin_horizon_age_seconds", {{"kind", "transaction"}}) == 0);
  const std::string& doc = attachments["horizon"];
  CHECK(doc.find("\"pid\":4242") != std::string::npos);
  CHECK(doc.find("\"pid\":null") != std::string::npos);
  CHECK(doc.find("\"name\":\"gid-1\"") != std::string::npos);
  CHECK(doc.find("query") == std::string::npos);
  CHECK(db.ran.at(0).find("query") == std::string::npos);  // never reads query text
}

TEST_CASE("Replication slots: NULLs of an inactive slot, wal_status as a state set, versions",
          "[postgres]") {
  ScriptedRunner db;
  db.script.push_back(
      {"FROM pg_replication_slots",
       Table({"slot_name", "slot_type", "active", "retained_bytes", "xmin_age", "catalog_xmin_age",
              "wal_status", "safe_wal_size"},
             {{"standby1", "physical", "f", "123456", std::nullopt, std::nullopt, "extended",
               std::nullopt},
              {"cdc", "logical", "t", std::nullopt, std::nullopt, "42", "reserved", "1000"}})});
  MetricSink sink;
  REQUIRE(CollectReplicationSlots(db, ServerInfo{150000}, sink).ok());
  CHECK(db.ran.at(0).find("pg_current_wal_lsn()") != std::string::npos);
  Snapshot s = sink.Take();
  Labels standby{{"slot_name", "standby1"}, {"slot_type", "physical"}};
  CHECK(FindValue(s, "pg_replication_slot_slot_is_active", standby) == 0);
  CHECK(FindValue(s, "pg_replication_slot_retained_wal_bytes", standby) == 123456);
  CHECK_FALSE(FindValue(s, "pg_replication_slot_xmin_age", standby).has_value());
  CHECK_FALSE(FindValue(s, "pg_replication_slot_safe_wal_size_bytes", standby).has_value());
  CHECK(FindValue(s, "pg_replication_slot_wal_status",
                  {{"slot_name", "standby1"}, {"wal_status", "extended"}}) == 1);
  CHECK(FindValue(s, "pg_replication_slot_wal_status",
                  {{"slot_name", "standby1"}, {"wal_status", "lost"}}) == 0);
  CHECK(FindValue(s, "pg_replication_slot_retained_wal_bytes", {{"slot_name", "cdc"}}) == 0);
  CHECK(FindValue(s, "pg_replication_slot_catalog_xmin_age", {{"slot_name", "cdc"}}) == 42);
  CHECK(FindValue(s, "pg_replication_slot_safe_wal_size_bytes", {{"slot_name", "cdc"}}) == 1000);
  CHECK(FindValue(s, "pg_replication_slots") == 2);

  // PostgreSQL 12: no wal_status or safe_wal_size; a replica measures from its replay LSN.
  ScriptedRunner old;
  old.script.push_back(
      {"FROM pg_replication_slots", Table({"slot_name", "slot_type", "active", "retained_bytes"},
                                          {{"s", "physical", "f", "10"}})});
  MetricSink old_sink;
  REQUIRE(CollectReplicationSlots(old, ServerInfo{120000, true}, old_sink).ok());
  CHECK(old.ran.at(0).find("NULL::text AS wal_status") != std::string::npos);
  CHECK(old.ran.at(0).find("pg_last_wal_replay_lsn()") != std::string::npos);
  Snapshot o = old_sink.Take();
  CHECK_FALSE(FindValue(o, "pg_replication_slot_wal_status", {{"slot_name", "s"}}).has_value());
}

TEST_CASE("pg_stat_wal: skipped before 14, counters in base units, 18 drops moved columns",
          "[postgres]") {
  ScriptedRunner none;
  MetricSink sink13;
  REQUIRE(CollectStatWal(none, ServerInfo{130000}, sink13).ok());
  CHECK(none.ran.empty());

  ScriptedRunner db;
  db.script.push_back(
      {"FROM pg_stat_wal", Table({"wal_records", "wal_fpi", "wal_bytes", "wal_buffers_full",
                                  "wal_write", "wal_sync", "wal_write_time", "wal_sync_time"},
                                 {{"10", "2", "4096", "0", "5", "4", "1500", std::nullopt}})});
  MetricSink sink;
  REQUIRE(CollectStatWal(db, ServerInfo{150000}, sink).ok());
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pg_stat_wal_wal_bytes_total") == 4096);
  CHECK(FindValue(s, "pg_stat_wal_wal_write_seconds_total") == 1.5);
  CHECK_FALSE(FindValue(s, "pg_stat_wal_wal_sync_seconds_total").has_value());

  ScriptedRunner v18;
  v18.script.push_back({"FROM pg_stat_wal", Table({"wal_records"}, {{"1"}})});
  MetricSink sink18;
  REQUIRE(CollectStatWal(v18, ServerInfo{180000}, sink18).ok());
  CHECK(v18.ran.at(0).find("wal_write") == std::string::npos);
}

TEST_CASE("Archiver: counts, ages only when known, failing when the last attempt failed",
          "[postgres]") {
  ScriptedRunner db;
  db.script.push_back(
      {"FROM pg_stat_archiver",
       Table({"archived_count", "failed_count", "last_archive_age", "last_failed_age", "failing"},
             {{"0", "3", std::nullopt, "12.5", "t"}})});
  MetricSink sink;
  REQUIRE(CollectStatArchiver(db, ServerInfo{150000}, sink).ok());
  Snapshot s = sink.Take();
  CHECK(FindValue(s, "pg_stat_archiver_failed_count") == 3);
  CHECK(FindValue(s, "pg_stat_archiver_archived_count") == 0);
  CHECK_FALSE(FindValue(s, "pg_stat_archiver_last_archive_age").has_value());
  CHECK(FindValue(s, "pg_stat_archiver_last_failed_age") == 12.5);
  CHECK(FindValue(s, "pg_stat_archiver_failing") == 1);
}

TEST_CASE("Each new view fails alone with its own context", "[postgres]") {
  ScriptedRunner db;  // every query fails (e.g. permission denied)
  MetricSink sink;
  CHECK(CollectWraparound(db, ServerInfo{150000}, sink).message().starts_with("pg_database"));
  CHECK(CollectXminHorizon(db, ServerInfo{150000}, sink).message().starts_with("xmin horizon"));
  CHECK(CollectReplicationSlots(db, ServerInfo{150000}, sink)
            .message()
            .starts_with("pg_replication_slots"));
  CHECK(CollectStatWal(db, ServerInfo{150000}, sink).message().starts_with("pg_stat_wal"));
  CHECK(CollectWalDir(db, ServerInfo{150000}, sink).message().starts_with("pg_ls_waldir"));
  CHECK(
      CollectStatArchiver(db, ServerInfo{150000}, sink).message().starts_with("pg_stat_archiver"));
  CHECK(CollectTableFreezeAge(db, ServerInfo{150000}, 10, sink).message().starts_with("pg_class"));
}

}  // namespace
}  // namespace vigil::collectors
