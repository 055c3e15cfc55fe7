// The PostgreSQL collector against a real PostgreSQL 15 this test starts (so it can stop and
// restart it), connecting as a role that has only pg_monitor.
#include "collectors/postgres/postgres_collector.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <thread>

#include "collectors/postgres/pg_connection.h"
#include "tests/support/snapshot_util.h"
#include "tests/support/subprocess.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using testing::FindValue;

const std::string kServers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";

struct OwnPostgres {
  fs::path dir = fs::temp_directory_path() / ("vigil-pg-" + std::to_string(getpid()));
  int port = 0;
  OwnPostgres() {
    fs::remove_all(dir);
    Start();
  }
  ~OwnPostgres() {
    Stop();
    fs::remove_all(dir);
  }
  void Start() {
    std::string env = port ? "VIGIL_PORT=" + std::to_string(port) + " " : "";
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

std::size_t SeriesCount(const Snapshot& s) {
  std::size_t n = 0;
  for (const MetricFamily& f : s) n += f.samples.size();
  return n;
}

Snapshot Collect(PostgresCollector& c, Status* status = nullptr) {
  MetricSink sink;
  TimestampMs now = SystemClock::Get().Now();
  Status s = c.Collect(CollectContext{now, now + 20000}, sink);
  if (status) {
    *status = s;
  } else if (!s.ok()) {
    FAIL("collect: " << s.message());
  }
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

}  // namespace
}  // namespace vigil
