// The pgbouncer collector against Debian's pgbouncer this test starts (as the postgres OS
// user, config in a temp dir, a free loopback port) in front of a PostgreSQL it also starts:
// pooled queries move the counters, a full pool shows waiting clients, a stopped or frozen
// pgbouncer gives pgbouncer_up 0 and an error, and a restart on the same port recovers.
#include "collectors/pgbouncer/pgbouncer_collector.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/snapshot_util.h"
#include "tests/support/subprocess.h"

namespace vigil::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FindValue;
using testing::RunCommand;

const std::string kServers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";

// A PostgreSQL and a pgbouncer in front of it (database "shop", transaction pooling, one
// server connection per pool so a second client has to wait). Both stopped by PID.
struct PgbouncerStack {
  fs::path dir = fs::temp_directory_path() / ("vigil-pgb-" + std::to_string(getpid()));
  int pg_port = 0;
  int port = 0;
  int pid = 0;

  PgbouncerStack() {
    fs::remove_all(dir);
    fs::create_directories(dir / "bouncer");
    auto [rc, out] = RunCommand(kServers + " start postgres " + (dir / "pg").string());
    if (rc != 0) FAIL("cannot start PostgreSQL: " << out);
    pg_port = std::stoi(out.substr(out.find_last_of('\n', out.size() - 2) + 1));
    port = testing::FreePort();
    std::ofstream(dir / "bouncer" / "userlist.txt") << "\"postgres\" \"\"\n\"stats\" \"\"\n";
    std::ofstream(dir / "bouncer" / "pgbouncer.ini")
        << "[databases]\n"
        << "shop = host=127.0.0.1 port=" << pg_port << " dbname=postgres\n"
        << "[pgbouncer]\n"
        << "listen_addr = 127.0.0.1\n"
        << "listen_port = " << port << "\n"
        << "unix_socket_dir =\n"
        << "auth_type = trust\n"
        << "auth_file = " << (dir / "bouncer" / "userlist.txt").string() << "\n"
        << "admin_users = postgres\n"
        << "stats_users = stats\n"
        << "pool_mode = transaction\n"
        << "default_pool_size = 1\n"
        << "logfile = " << (dir / "bouncer" / "pgbouncer.log").string() << "\n"
        << "pidfile = " << (dir / "bouncer" / "pgbouncer.pid").string() << "\n";
    RunCommand("chown -R postgres " + (dir / "bouncer").string());
    Start();
  }
  ~PgbouncerStack() {
    Stop();
    RunCommand(kServers + " stop postgres " + (dir / "pg").string());
    fs::remove_all(dir);
  }
  // Starts pgbouncer daemonized; waits until the console answers.
  void Start() {
    auto [rc, out] = RunCommand("runuser -u postgres -- /usr/sbin/pgbouncer -d " +
                                (dir / "bouncer" / "pgbouncer.ini").string());
    if (rc != 0) FAIL("cannot start pgbouncer: " << out);
    for (int i = 0; i < 100; ++i) {
      std::ifstream pidfile(dir / "bouncer" / "pgbouncer.pid");
      if (pidfile >> pid && Psql("pgbouncer", "stats", {"SHOW VERSION"}).first == 0) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL("pgbouncer did not become ready: "
         << RunCommand("cat " + (dir / "bouncer").string() + "/pgbouncer.log").second);
  }
  // Stops the pgbouncer this test started, by its PID.
  void Stop() {
    if (pid <= 0) return;
    kill(pid, SIGCONT);
    kill(pid, SIGTERM);
    for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(50ms);
    if (kill(pid, 0) == 0) kill(pid, SIGKILL);
    for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(50ms);
    pid = 0;
  }
  // Runs each statement as its own query (one -c each) in one session.
  std::pair<int, std::string> Psql(const std::string& db, const std::string& user,
                                   const std::vector<std::string>& statements) const {
    std::string cmd =
        "psql -X -qAt -h 127.0.0.1 -p " + std::to_string(port) + " -U " + user + " -d " + db;
    for (const std::string& sql : statements) cmd += " -c \"" + sql + "\"";
    return RunCommand(cmd);
  }
  std::vector<std::string> PsqlArgv(const std::string& sql) const {
    return {"/usr/bin/psql", "-X", "-qAt", "-h", "127.0.0.1", "-p", std::to_string(port), "-U",
            "postgres",      "-d", "shop", "-c", sql};
  }
};

Snapshot Collect(PgbouncerCollector& c, Status* status, TimestampMs budget = 5000) {
  MetricSink sink;
  TimestampMs now = SystemClock::Get().Now();
  *status = c.Collect(CollectContext{now, now + budget}, sink);
  return sink.Take();
}

double Value(const Snapshot& s, const std::string& name, const Labels& match = {}) {
  std::optional<double> v = FindValue(s, name, match);
  INFO(name << match.ToString());
  REQUIRE(v.has_value());
  return *v;
}

TEST_CASE("pgbouncer: pooled queries move the metrics, stop, freeze and restart",
          "[integration][pgbouncer]") {
  PgbouncerStack stack;
  PgbouncerConfig config{"bouncer",
                         "host=127.0.0.1 port=" + std::to_string(stack.port) + " user=stats",
                         "not-needed-with-trust"};
  PgbouncerCollector collector(config);
  Status status;
  Snapshot before = Collect(collector, &status);
  INFO(status.message());
  REQUIRE(status.ok());
  Labels shop{{"database", "shop"}, {"target", "bouncer"}};
  CHECK(Value(before, "pgbouncer_up", {{"target", "bouncer"}}) == 1);
  CHECK(Value(before, "pgbouncer_version_info", {{"version", "PgBouncer 1.18.0"}}) == 1);
  CHECK(Value(before, "pgbouncer_config_max_client_connections") == 100);
  CHECK(Value(before, "pgbouncer_databases_pool_size", {{"name", "shop"}}) == 1);
  CHECK(Value(before, "pgbouncer_databases", {}) == 2);  // shop and the console
  // SHOW STATS lists a database once a client used it: none has yet.
  CHECK_FALSE(FindValue(before, "pgbouncer_stats_queries_pooled_total", shop).has_value());

  // Ten pooled queries in five transactions.
  for (int i = 0; i < 5; ++i) {
    auto [rc, out] = stack.Psql("shop", "postgres", {"SELECT " + std::to_string(i), "SELECT 1"});
    INFO(out);
    REQUIRE(rc == 0);
  }
  Snapshot after = Collect(collector, &status);
  REQUIRE(status.ok());
  CHECK(Value(after, "pgbouncer_stats_queries_pooled_total", shop) >= 10);
  CHECK(Value(after, "pgbouncer_stats_sql_transactions_pooled_total", shop) >= 5);
  CHECK(Value(after, "pgbouncer_stats_queries_duration_seconds_total", shop) > 0);
  CHECK(Value(after, "pgbouncer_databases_current_connections", {{"name", "shop"}}) == 1);
  CHECK(Value(after, "pgbouncer_pools_server_idle_connections",
              {{"database", "shop"}, {"user", "postgres"}}) == 1);

  // Two clients, one server connection: the first holds it, the second waits.
  {
    Labels pool{{"database", "shop"}, {"user", "postgres"}};
    // Polls until `metric` of the pool reads `want` (bounded); returns the last snapshot.
    auto until = [&](const char* metric, double want) {
      Snapshot s;
      for (int i = 0; i < 100; ++i) {
        s = Collect(collector, &status);
        REQUIRE(status.ok());
        if (FindValue(s, metric, pool) == want) break;
        std::this_thread::sleep_for(50ms);
      }
      return s;
    };
    testing::Subprocess a(stack.PsqlArgv("SELECT pg_sleep(2)"),
                          (stack.dir / "client-a.log").string());
    Snapshot busy = until("pgbouncer_pools_server_active_connections", 1);
    CHECK(Value(busy, "pgbouncer_pools_client_active_connections", pool) == 1);
    testing::Subprocess b(stack.PsqlArgv("SELECT 1"), (stack.dir / "client-b.log").string());
    busy = until("pgbouncer_pools_client_waiting_connections", 1);
    CHECK(Value(busy, "pgbouncer_pools_client_waiting_connections", pool) == 1);
    CHECK(Value(busy, "pgbouncer_pools_server_active_connections", pool) == 1);
    CHECK(Value(busy, "pgbouncer_used_clients") >= 2);
    std::this_thread::sleep_for(400ms);
    busy = Collect(collector, &status);
    REQUIRE(status.ok());
    CHECK(Value(busy, "pgbouncer_pools_client_maxwait_seconds", pool) > 0.3);
    CHECK(a.Wait(5s) == 0);
    CHECK(b.Wait(5s) == 0);
    INFO(a.Output() << b.Output());
  }
  double wait0 = Value(after, "pgbouncer_stats_client_wait_seconds_total", shop);
  Snapshot waited = Collect(collector, &status);
  REQUIRE(status.ok());
  CHECK(Value(waited, "pgbouncer_stats_client_wait_seconds_total", shop) - wait0 > 0.3);

  // Frozen (SIGSTOP): the cycle ends at its deadline with pgbouncer_up 0.
  REQUIRE(kill(stack.pid, SIGSTOP) == 0);
  auto t0 = std::chrono::steady_clock::now();
  Snapshot frozen = Collect(collector, &status, 1000);
  CHECK(std::chrono::steady_clock::now() - t0 < 1000ms);
  CHECK_FALSE(status.ok());
  CHECK(Value(frozen, "pgbouncer_up") == 0);
  REQUIRE(kill(stack.pid, SIGCONT) == 0);
  Snapshot thawed = Collect(collector, &status);
  INFO(status.message());
  CHECK(status.ok());
  CHECK(Value(thawed, "pgbouncer_up") == 1);

  // Stopped: pgbouncer_up 0 and an error naming the address, never the password.
  stack.Stop();
  Snapshot down = Collect(collector, &status);
  CHECK_FALSE(status.ok());
  CHECK(status.message().find(std::to_string(stack.port)) != std::string::npos);
  CHECK(status.message().find("not-needed") == std::string::npos);
  CHECK(Value(down, "pgbouncer_up", {{"target", "bouncer"}}) == 0);
  CHECK_FALSE(FindValue(down, "pgbouncer_pools_client_active_connections").has_value());

  // Restarted on the same port: the next cycle reconnects by itself; counters start over.
  stack.Start();
  Snapshot back = Collect(collector, &status);
  INFO(status.message());
  CHECK(status.ok());
  CHECK(Value(back, "pgbouncer_up") == 1);
  CHECK_FALSE(FindValue(back, "pgbouncer_stats_queries_pooled_total", shop).has_value());
}

}  // namespace
}  // namespace vigil::collectors
