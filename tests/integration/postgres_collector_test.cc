// The PostgreSQL collector against a real PostgreSQL 15 this test starts (so it can stop and
// restart it), connecting as a role that has only pg_monitor.
#include "collectors/postgres/postgres_collector.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "collectors/postgres/pg_connection.h"
#include "tests/support/snapshot_util.h"
#include "tests/support/subprocess.h"

namespace vigil::collectors {
namespace {

namespace fs = std::filesystem;
using testing::CountMatching;
using testing::FindValue;

const std::string kServers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";

struct OwnPostgres {
  fs::path dir;
  int port = 0;
  std::string options;  // VIGIL_PG_OPTS: server settings of this test's server
  // With `primary_port`, a hot standby of that server (pg_basebackup -R; on slot `slot` if set).
  explicit OwnPostgres(std::string opts = "", const std::string& tag = "", int primary_port = 0,
                       const std::string& slot = "")
      : dir(fs::temp_directory_path() / ("vigil-pg-" + tag + std::to_string(getpid()))),
        options(std::move(opts)) {
    fs::remove_all(dir);
    if (primary_port) {
      auto [rc, out] = testing::RunCommand(
          "mkdir -p " + dir.string() + " && chown postgres " + dir.string() +
          " && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_basebackup -h 127.0.0.1 -p " +
          std::to_string(primary_port) + " -U postgres -D " + (dir / "data").string() +
          " -R -X stream -c fast" + (slot.empty() ? "" : " -C -S " + slot) + " 2>&1");
      if (rc != 0) FAIL("pg_basebackup: " << out);
    }
    Start();
  }
  ~OwnPostgres() {
    Stop();
    fs::remove_all(dir);
  }
  void Start() {
    std::string env = port ? "VIGIL_PORT=" + std::to_string(port) + " " : "";
    if (!options.empty()) env += "VIGIL_PG_OPTS='" + options + "' ";
    auto [rc, out] = testing::RunCommand(env + kServers + " start postgres " + dir.string());
    if (rc != 0) FAIL("cannot start PostgreSQL: " << out);
    // The last line is "PORT PID".
    std::string last = out.substr(out.find_last_of('\n', out.size() - 2) + 1);
    port = std::stoi(last);
  }
  void Stop() { testing::RunCommand(kServers + " stop postgres " + dir.string()); }
  PgConnectOptions As(const std::string& user) const {
    return PgConnectOptions{
        "host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres user=" + user, "", "",
        Duration(5000), Duration(10000)};
  }
};

void Exec(PgConnection& c, const std::string& sql) {
  Result<QueryResult> r = c.Query(sql);
  if (!r.ok()) FAIL(sql << ": " << r.status().message());
}

double Number(PgConnection& c, const std::string& sql) {
  Result<QueryResult> r = c.Query(sql);
  if (!r.ok() || r->rows.empty()) FAIL(sql << ": " << (r.ok() ? "no row" : r.status().message()));
  return r->Number(0, r->columns.at(0)).value_or(-1);
}

std::size_t SeriesCount(const Snapshot& s) {
  std::size_t n = 0;
  for (const MetricFamily& f : s) n += f.samples.size();
  return n;
}

Snapshot Collect(PostgresCollector& c, Status* status = nullptr,
                 std::map<std::string, std::string>* attachments = nullptr) {
  MetricSink sink;
  TimestampMs now = SystemClock::Get().Now();
  Status s = c.Collect(CollectContext{now, now + 20000}, sink);
  if (status) {
    *status = s;
  } else if (!s.ok()) {
    FAIL("collect: " << s.message());
  }
  if (attachments) *attachments = sink.TakeAttachments();
  return sink.Take();
}

TEST_CASE(
    "PostgreSQL: per-statement deltas match the view, series stay bounded, blocking is "
    "seen, and a restart is survived",
    "[integration][postgres]") {
  OwnPostgres pg;
  PgConnection admin;
  REQUIRE(admin.Connect(pg.As("postgres")).ok());
  Exec(admin, "CREATE ROLE vigil_monitor LOGIN; GRANT pg_monitor TO vigil_monitor");
  Exec(admin, "CREATE TABLE orders (id int PRIMARY KEY, v text)");
  Exec(admin, "INSERT INTO orders SELECT g, 'x' FROM generate_series(1, 1000) g");
  // Over 1,000 distinct statements: every pair of 35 small tables (aliases and constants do
  // not make a query distinct; the tables it reads do).
  for (int i = 0; i < 35; ++i) Exec(admin, "CREATE TABLE t" + std::to_string(i) + " (x int)");
  for (int i = 0; i < 35; ++i) {
    for (int j = 0; j < 35; ++j) {
      Exec(admin,
           "SELECT count(*) FROM t" + std::to_string(i) + " a, t" + std::to_string(j) + " b");
    }
  }

  PostgresConfig config;
  config.name = "main";
  config.connect = pg.As("vigil_monitor");
  config.statements_interval = Duration(0);
  PostgresCollector collector(config);

  Snapshot first = Collect(collector);
  CHECK(FindValue(first, "pg_up") == 1);
  for (const char* view :
       {"pg_settings", "pg_stat_database", "pg_stat_activity", "pg_locks", "pg_stat_bgwriter",
        "replication", "table_usage", "pg_stat_statements"}) {
    INFO(view);
    CHECK(FindValue(first, "vigil_pg_view_up", {{"view", view}}) == 1);
  }
  CHECK(FindValue(first, "pg_stat_user_tables_n_live_tup", {{"relname", "orders"}}) >= 0);
  CHECK(*FindValue(first, "vigil_pg_statements_tracked") >= 1200);

  const int kCalls = 37;
  for (int i = 0; i < kCalls; ++i) {
    Exec(admin, "SELECT count(*) AS marker_col FROM orders WHERE id > " + std::to_string(i));
  }
  Snapshot second = Collect(collector);
  Result<QueryResult> view = admin.Query(
      "SELECT queryid::text AS queryid, calls FROM pg_stat_statements "
      "WHERE query LIKE '%marker_col%' AND query NOT LIKE '%pg_stat_statements%'");
  REQUIRE(view.ok());
  REQUIRE(view->rows.size() == 1);
  CHECK(view->Number(0, "calls") == kCalls);
  std::string queryid(view->Text(0, "queryid"));
  double interval = *FindValue(second, "vigil_pg_statements_interval_seconds");
  std::optional<double> rate =
      FindValue(second, "vigil_pg_statement_calls_per_second", {{"queryid", queryid}});
  REQUIRE(rate.has_value());
  CHECK(*rate * interval == Approx(kCalls).epsilon(1e-9));
  CHECK(FindValue(second, "vigil_pg_statement_rows_per_second", {{"queryid", queryid}}).value() *
            interval ==
        Approx(kCalls));
  bool text_found = false;
  for (const MetricFamily& f : second) {
    if (f.name != "vigil_pg_statement_info") continue;
    for (const Sample& s : f.samples) {
      if (s.labels.Get("queryid") == queryid) {
        text_found = s.labels.Get("query").find("marker_col") != std::string_view::npos;
      }
    }
  }
  CHECK(text_found);
  CHECK(SeriesCount(second) < 2000);

  // Blocking: one session holds a lock, another waits on it.
  PgConnection holder, waiter;
  REQUIRE(holder.Connect(pg.As("postgres")).ok());
  REQUIRE(waiter.Connect(pg.As("postgres")).ok());
  Exec(waiter, "SET application_name = 'orders-report'");
  Exec(holder, "BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
  std::thread blocked([&] { (void)waiter.Query("SELECT count(*) FROM orders"); });
  Snapshot locked;
  for (int i = 0; i < 50; ++i) {
    locked = Collect(collector);
    if (FindValue(locked, "pg_locks_waiting_sessions", {{"datname", "postgres"}}) >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(FindValue(locked, "pg_locks_waiting_sessions", {{"datname", "postgres"}}) >= 1);
  CHECK(FindValue(locked, "pg_locks_count", {{"mode", "accessexclusivelock"}}) >= 1);
  // Who waits on what: the waiter by its application and user, and by its wait event.
  CHECK(FindValue(locked, "pg_stat_activity_sessions",
                  {{"application_name", "orders-report"}, {"usename", "postgres"}}) == 1);
  CHECK(FindValue(locked, "pg_stat_activity_wait_event_count",
                  {{"wait_event_type", "Lock"}, {"wait_event", "relation"}}) >= 1);
  CHECK(FindValue(locked, "pg_stat_activity_sessions_other") == 0);
  Exec(holder, "COMMIT");
  blocked.join();

  // PostgreSQL goes away: pg_up 0 and an error; it comes back on the same port: recovered.
  pg.Stop();
  Status down;
  Snapshot gone = Collect(collector, &down);
  CHECK_FALSE(down.ok());
  CHECK(FindValue(gone, "pg_up") == 0);
  pg.Start();
  Status up;
  Snapshot back = Collect(collector, &up);
  CHECK(up.ok());
  CHECK(FindValue(back, "pg_up") == 1);
}

// Wraparound, the xmin horizon, slots, WAL and the archiver, read as a pg_monitor-only role
// from a server started with prepared transactions, logical WAL, a failing archive_command and
// the lowest autovacuum_freeze_max_age.
TEST_CASE(
    "PostgreSQL: wraparound ages, horizon holders with who, slot retained WAL, WAL and a "
    "failing archiver, as pg_monitor",
    "[integration][postgres]") {
  OwnPostgres pg(
      "-c max_prepared_transactions=5 -c wal_level=logical -c archive_mode=on "
      "-c archive_command=false -c autovacuum_freeze_max_age=100000",
      "depth-");
  PgConnection admin;
  REQUIRE(admin.Connect(pg.As("postgres")).ok());
  Exec(admin, "CREATE ROLE vigil_monitor LOGIN; GRANT pg_monitor TO vigil_monitor");
  Exec(admin, "CREATE TABLE burn (id serial PRIMARY KEY, v text)");
  // Slots first: a logical slot waits for running transactions to end.
  Exec(admin, "SELECT pg_create_physical_replication_slot('vigil_phys', true)");
  Exec(admin, "SELECT pg_create_logical_replication_slot('vigil_logical', 'test_decoding')");

  PostgresConfig config;
  config.name = "main";
  config.connect = pg.As("vigil_monitor");
  config.statements = false;
  config.freeze_table_limit = 3;
  PostgresCollector collector(config);

  auto burn = [&](int n) {  // n transactions, each with its own XID
    for (int i = 0; i < n; ++i) Exec(admin, "SELECT txid_current()");
  };

  // Sessions that hold the horizon: idle in a transaction with a snapshot and an XID, and a
  // prepared transaction.
  PgConnection idle, preparer;
  REQUIRE(idle.Connect(pg.As("postgres")).ok());
  REQUIRE(preparer.Connect(pg.As("postgres")).ok());
  double idle_pid = Number(idle, "SELECT pg_backend_pid()");
  Exec(idle, "BEGIN ISOLATION LEVEL REPEATABLE READ");
  Exec(idle, "SELECT txid_current(), count(*) FROM burn");
  Exec(preparer, "BEGIN; INSERT INTO burn (v) VALUES ('p'); PREPARE TRANSACTION 'vigil_gid'");
  burn(50);

  std::map<std::string, std::string> attachments;
  Snapshot first = Collect(collector, nullptr, &attachments);
  for (const char* view : {"wraparound", "xmin_horizon", "pg_replication_slots", "pg_stat_wal",
                           "pg_ls_waldir", "pg_stat_archiver", "table_freeze_age", "replication"}) {
    INFO(view);
    CHECK(FindValue(first, "vigil_pg_view_up", {{"view", view}}) == 1);
  }

  // Wraparound: the age PostgreSQL reports, and the ratio to autovacuum_freeze_max_age.
  double age = *FindValue(first, "pg_database_wraparound_age_datfrozenxid_seconds",
                          {{"datname", "postgres"}});
  CHECK(age > 50);
  CHECK(*FindValue(first, "pg_database_wraparound_freeze_ratio",
                   {{"datname", "postgres"}, {"kind", "xid"}}) == Approx(age / 100000));
  CHECK(FindValue(first, "pg_database_wraparound_age_datminmxid_seconds", {{"datname", "postgres"}})
            .has_value());
  CHECK(FindValue(first, "pg_settings_autovacuum_freeze_max_age") == 100000);
  CHECK(CountMatching(first, "pg_table_frozenxid_age", {{"datname", "postgres"}}) == 3);
  double oldest_table =
      Number(admin, "SELECT max(age(relfrozenxid)) FROM pg_class WHERE relkind IN ('r', 'm', 't')");
  double top = 0;
  for (const MetricFamily& f : first) {
    if (f.name != "pg_table_frozenxid_age") continue;
    for (const Sample& x : f.samples) top = std::max(top, x.value);
  }
  CHECK(top == Approx(oldest_table).margin(5));

  // The horizon: the idle session and the prepared transaction are named, by kind.
  double idle_age = *FindValue(first, "pg_xmin_horizon_age", {{"kind", "idle_in_transaction"}});
  CHECK(idle_age >= 50);
  CHECK(*FindValue(first, "pg_xmin_horizon_age_seconds", {{"kind", "idle_in_transaction"}}) > 0);
  CHECK(*FindValue(first, "pg_xmin_horizon_age", {{"kind", "prepared_transaction"}}) >= 50);
  CHECK(*FindValue(first, "pg_xmin_horizon_age", {{"kind", "replication_slot_catalog_xmin"}}) >=
        50);
  CHECK(FindValue(first, "pg_xmin_horizon_age", {{"kind", "standby_feedback"}}) == 0);
  const std::string& horizon = attachments["horizon"];
  INFO(horizon);
  CHECK(horizon.find("\"pid\":" + std::to_string(static_cast<long>(idle_pid))) !=
        std::string::npos);
  CHECK(horizon.find("\"name\":\"vigil_gid\"") != std::string::npos);
  CHECK(horizon.find("\"name\":\"vigil_logical\"") != std::string::npos);
  CHECK(horizon.find("count(*)") == std::string::npos);  // no query text

  // An active transaction: it is the oldest of its kind while it runs.
  PgConnection active;
  REQUIRE(active.Connect(pg.As("postgres")).ok());
  Exec(active, "BEGIN");
  Exec(active, "SELECT txid_current()");
  std::thread running([&] { (void)active.Query("SELECT pg_sleep(3)"); });
  burn(20);
  Snapshot busy;
  for (int i = 0; i < 20; ++i) {  // until the sleep is seen as running (at most 2s)
    busy = Collect(collector, nullptr, &attachments);
    if (FindValue(busy, "pg_xmin_horizon_age", {{"kind", "transaction"}}) >= 20) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  running.join();
  Exec(active, "COMMIT");
  CHECK(*FindValue(busy, "pg_xmin_horizon_age", {{"kind", "transaction"}}) >= 20);
  CHECK(*FindValue(busy, "pg_xmin_horizon_age", {{"kind", "idle_in_transaction"}}) >=
        idle_age + 20);  // grows with every transaction

  // Slots: inactive, reserved, and the WAL they keep grows with the WAL written.
  Labels phys{{"slot_name", "vigil_phys"}, {"slot_type", "physical"}};
  CHECK(FindValue(first, "pg_replication_slot_slot_is_active", phys) == 0);
  CHECK(FindValue(first, "pg_replication_slot_wal_status",
                  {{"slot_name", "vigil_phys"}, {"wal_status", "reserved"}}) == 1);
  CHECK(FindValue(first, "pg_replication_slot_wal_status",
                  {{"slot_name", "vigil_phys"}, {"wal_status", "lost"}}) == 0);
  CHECK_FALSE(FindValue(first, "pg_replication_slot_xmin_age", phys).has_value());  // NULL xmin
  CHECK(FindValue(first, "pg_replication_slot_catalog_xmin_age", {{"slot_name", "vigil_logical"}})
            .has_value());
  double retained = *FindValue(first, "pg_replication_slot_retained_wal_bytes", phys);
  double wal_bytes = *FindValue(first, "pg_stat_wal_wal_bytes_total");
  Exec(admin, "INSERT INTO burn (v) SELECT repeat('w', 200) FROM generate_series(1, 20000)");
  Exec(admin, "SELECT pg_switch_wal()");

  // The archiver fails (archive_command is `false`) on the switched segment; it retries.
  Snapshot later;
  for (int i = 0; i < 100; ++i) {  // at most 10s
    later = Collect(collector);
    if (FindValue(later, "pg_stat_archiver_failed_count") >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(*FindValue(later, "pg_replication_slot_retained_wal_bytes", phys) >= retained + 4000000);
  CHECK(*FindValue(later, "pg_stat_wal_wal_bytes_total") >= wal_bytes + 4000000);
  double segments = *FindValue(later, "pg_wal_segments");
  CHECK(segments >= 1);
  CHECK(FindValue(later, "pg_wal_size_bytes") == segments * 16 * 1024 * 1024);
  CHECK(*FindValue(later, "pg_stat_archiver_failed_count") >= 1);
  CHECK(FindValue(later, "pg_stat_archiver_archived_count") == 0);
  CHECK(FindValue(later, "pg_stat_archiver_failing") == 1);
  CHECK(*FindValue(later, "pg_stat_archiver_last_failed_age") >= 0);
  CHECK_FALSE(FindValue(later, "pg_stat_archiver_last_archive_age").has_value());

  Exec(preparer, "ROLLBACK PREPARED 'vigil_gid'");
  Exec(idle, "COMMIT");
  Exec(admin, "SELECT pg_drop_replication_slot('vigil_logical')");
  Snapshot released = Collect(collector);
  CHECK(FindValue(released, "pg_xmin_horizon_age", {{"kind", "prepared_transaction"}}) == 0);
  CHECK(FindValue(released, "pg_xmin_horizon_age", {{"kind", "idle_in_transaction"}}) == 0);
  CHECK(FindValue(released, "pg_xmin_horizon_age", {{"kind", "replication_slot_catalog_xmin"}}) ==
        0);
}

// Two hot standbys with hot_standby_feedback: one on a physical slot (its feedback becomes the
// slot's xmin), one without (the walsender's backend_xmin: standby feedback). The primary sees
// both in the horizon, their lag and the active slot; every new view also works on a standby.
TEST_CASE("PostgreSQL: standbys' feedback holds the horizon, their lag and active slot are seen",
          "[integration][postgres]") {
  OwnPostgres primary("", "primary-");
  PgConnection admin;
  REQUIRE(admin.Connect(primary.As("postgres")).ok());
  Exec(admin, "CREATE ROLE vigil_monitor LOGIN; GRANT pg_monitor TO vigil_monitor");
  // cluster_name is the walreceiver's application_name on the primary.
  const std::string kFeedback = "-c hot_standby_feedback=on -c wal_receiver_status_interval=1s";
  OwnPostgres standby(kFeedback + " -c cluster_name=with_slot", "standby-", primary.port,
                      "vigil_standby");
  OwnPostgres slotless(kFeedback + " -c cluster_name=slotless", "slotless-", primary.port);

  PostgresConfig config;
  config.name = "primary";
  config.connect = primary.As("vigil_monitor");
  config.statements = false;
  PostgresCollector on_primary(config);
  config.name = "standby";
  config.connect = standby.As("vigil_monitor");
  PostgresCollector on_standby(config);

  // A snapshot held on the standby pins the xmin its feedback reports.
  PgConnection reader;
  REQUIRE(reader.Connect(standby.As("postgres")).ok());
  Exec(reader, "BEGIN ISOLATION LEVEL REPEATABLE READ");
  Exec(reader, "SELECT count(*) FROM pg_class");
  PgConnection reader2;
  REQUIRE(reader2.Connect(slotless.As("postgres")).ok());
  Exec(reader2, "BEGIN ISOLATION LEVEL REPEATABLE READ");
  Exec(reader2, "SELECT count(*) FROM pg_class");
  for (int i = 0; i < 40; ++i) Exec(admin, "SELECT txid_current()");

  Labels slot{{"slot_name", "vigil_standby"}, {"slot_type", "physical"}};
  std::map<std::string, std::string> attachments;
  Snapshot s;
  for (int i = 0; i < 100; ++i) {  // feedback every second: at most 10s
    s = Collect(on_primary, nullptr, &attachments);
    if (FindValue(s, "pg_xmin_horizon_age", {{"kind", "standby_feedback"}}) >= 40 &&
        FindValue(s, "pg_replication_slot_slot_is_active", slot) == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(FindValue(s, "pg_stat_replication_replicas") == 2);
  CHECK(FindValue(s, "pg_replication_slot_slot_is_active", slot) == 1);
  CHECK(*FindValue(s, "pg_xmin_horizon_age", {{"kind", "standby_feedback"}}) >= 40);
  CHECK(*FindValue(s, "pg_xmin_horizon_age", {{"kind", "replication_slot_xmin"}}) >= 40);
  CHECK(*FindValue(s, "pg_replication_slot_xmin_age", slot) >= 40);
  for (const char* lag :
       {"pg_stat_replication_write_lag_seconds", "pg_stat_replication_flush_lag_seconds",
        "pg_stat_replication_replay_lag_seconds"}) {
    INFO(lag);
    for (const char* name : {"with_slot", "slotless"}) {
      std::optional<double> v = FindValue(s, lag, {{"application_name", name}});
      REQUIRE(v.has_value());
      CHECK(*v >= 0);
      CHECK(*v < 30);
    }
  }
  const std::string& horizon = attachments["horizon"];
  INFO(horizon);
  CHECK(horizon.find("\"kind\":\"standby_feedback\"") != std::string::npos);
  CHECK(horizon.find("\"application_name\":\"slotless\"") != std::string::npos);
  CHECK(horizon.find("\"name\":\"vigil_standby\"") != std::string::npos);

  // On the standby: every view works (read-only, in recovery), the slots' LSN is the replay one.
  Snapshot r = Collect(on_standby);
  CHECK(FindValue(r, "pg_replication_is_replica") == 1);
  for (const char* view : {"wraparound", "xmin_horizon", "pg_replication_slots", "pg_stat_wal",
                           "pg_ls_waldir", "pg_stat_archiver", "table_freeze_age", "replication"}) {
    INFO(view);
    CHECK(FindValue(r, "vigil_pg_view_up", {{"view", view}}) == 1);
  }
  CHECK(FindValue(r, "pg_xmin_horizon_age", {{"kind", "transaction"}}) >= 0);
  Exec(reader, "COMMIT");
  Exec(reader2, "COMMIT");
}

// max_slot_wal_keep_size: a reserved slot nobody reads goes from reserved through unreserved to
// lost once WAL past the limit is written and a checkpoint removes its segments.
TEST_CASE("PostgreSQL: an abandoned slot past max_slot_wal_keep_size is lost",
          "[integration][postgres]") {
  OwnPostgres pg("-c max_slot_wal_keep_size=32MB -c max_wal_size=64MB -c min_wal_size=32MB",
                 "slotlost-");
  PgConnection admin;
  REQUIRE(admin.Connect(pg.As("postgres")).ok());
  Exec(admin, "CREATE ROLE vigil_monitor LOGIN; GRANT pg_monitor TO vigil_monitor");
  Exec(admin, "SELECT pg_create_physical_replication_slot('doomed', true)");
  PostgresConfig config;
  config.name = "main";
  config.connect = pg.As("vigil_monitor");
  config.statements = false;
  PostgresCollector collector(config);

  Labels slot{{"slot_name", "doomed"}, {"wal_status", "reserved"}};
  Snapshot before = Collect(collector);
  CHECK(FindValue(before, "pg_replication_slot_wal_status", slot) == 1);
  double safe =
      *FindValue(before, "pg_replication_slot_safe_wal_size_bytes", {{"slot_name", "doomed"}});
  CHECK(safe > 0);
  CHECK(safe <= 48 * 1024 * 1024);  // the limit plus the rest of the current segment
  CHECK(FindValue(before, "pg_settings_max_slot_wal_keep_size_bytes") == 32 * 1024 * 1024);

  // Six segments of WAL (a switch after each write), then a checkpoint removes the old ones.
  for (int i = 0; i < 6; ++i) {
    Exec(admin, "SELECT txid_current()");
    Exec(admin, "SELECT pg_switch_wal()");
  }
  Exec(admin, "CHECKPOINT");
  Snapshot after = Collect(collector);
  CHECK(FindValue(after, "pg_replication_slot_wal_status",
                  {{"slot_name", "doomed"}, {"wal_status", "lost"}}) == 1);
  CHECK(FindValue(after, "pg_replication_slot_wal_status", slot) == 0);
  CHECK(FindValue(after, "vigil_pg_view_up", {{"view", "pg_replication_slots"}}) == 1);
}

}  // namespace
}  // namespace vigil::collectors
