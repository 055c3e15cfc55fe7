// vigil beside the exporters it replaces, against the same PostgreSQL (started here) and the
// same processes: Debian's prometheus-postgres-exporter 0.11 (its example queries file up to,
// not including, pg_stat_statements, whose columns predate PostgreSQL 13) and
// prometheus-process-exporter 0.7 (a group matched by comm). Every family vigil exports under
// those exporters' prefixes must exist there with the same type and label names (vigil's
// `target` ignored), unless listed below as deliberately vigil's own, with the reason.
#include <httplib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/subprocess.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::RunCommand;
using testing::Subprocess;

const std::string kServers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("vigil-compat-" + std::to_string(getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A PostgreSQL started for this test, stopped by PID however the test ends.
struct OwnPostgres {
  fs::path dir;
  int port = 0;
  explicit OwnPostgres(fs::path d) : dir(std::move(d)) {
    auto [rc, out] = RunCommand(kServers + " start postgres " + dir.string());
    if (rc != 0) FAIL("cannot start PostgreSQL: " << out);
    port = std::stoi(out.substr(out.find_last_of('\n', out.size() - 2) + 1));
  }
  ~OwnPostgres() { RunCommand(kServers + " stop postgres " + dir.string()); }
  void Sql(const std::string& sql) const {
    auto [rc, out] = RunCommand("psql -X -qAt -h 127.0.0.1 -p " + std::to_string(port) +
                                " -U postgres -d postgres -c \"" + sql + "\"");
    INFO(out);
    REQUIRE(rc == 0);
  }
};

std::string Get(int port, const std::string& path = "/metrics") {
  httplib::Client c("127.0.0.1", port);
  c.set_tcp_nodelay(true);
  c.set_read_timeout(10, 0);
  auto res = c.Get(path.c_str());
  return res && res->status == 200 ? res->body : "";
}

// Polls `port` until the body matches `pattern` (bounded); returns the last body.
std::string WaitFor(int port, const std::string& pattern, std::chrono::milliseconds timeout) {
  std::regex re(pattern);
  std::string body;
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(200ms)) {
    body = Get(port);
    if (std::regex_search(body, re)) return body;
  }
  FAIL("timed out waiting for /" << pattern << "/ on port " << port << " in:\n" << body);
  return body;
}

// A family's type, label names and the values each label takes.
struct FamilyShape {
  std::string type = "untyped";
  std::set<std::string> labels;
  std::map<std::string, std::set<std::string>> values;
};

// The families of an exposition whose names start with `prefix`; label names in `drop` are
// left out (le and quantile always are; _bucket/_sum/_count fold into their family).
std::map<std::string, FamilyShape> Shapes(const std::string& text, const std::string& prefix,
                                          const std::set<std::string>& drop) {
  std::map<std::string, FamilyShape> out;
  std::istringstream in(text);
  std::string line;
  std::regex type_re("^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ([a-z]+)$");
  std::regex sample_re("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? ");
  std::regex label_re("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
  std::smatch m;
  std::map<std::string, std::string> types;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, type_re)) {
      types[m[1]] = m[2];
      continue;
    }
    if (line.empty() || line[0] == '#' || !std::regex_search(line, m, sample_re)) continue;
    std::string name = m[1];
    for (std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
      std::string base = name.substr(0, name.size() - suffix.size());
      if (types[base] == "summary" || types[base] == "histogram") name = base;
    }
    if (!name.starts_with(prefix)) continue;
    FamilyShape& shape = out[name];
    if (types.count(name)) shape.type = types[name];
    std::string labels = m[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), label_re), end; it != end; ++it) {
      std::string l = (*it)[1];
      if (drop.count(l) || l == "le" || l == "quantile") continue;
      shape.labels.insert(l);
      shape.values[l].insert((*it)[2]);
    }
  }
  return out;
}

// Checks every family of `ours` against `theirs`; returns how many matched.
std::size_t CompareShapes(const std::map<std::string, FamilyShape>& ours,
                          const std::map<std::string, FamilyShape>& theirs,
                          const std::map<std::string, std::string>& vigil_only) {
  std::size_t shared = 0;
  for (const auto& [name, shape] : ours) {
    INFO("family " << name);
    if (vigil_only.count(name)) {
      CHECK(theirs.count(name) == 0);  // a listed difference that is gone must be unlisted
      continue;
    }
    auto it = theirs.find(name);
    CHECK(it != theirs.end());
    if (it == theirs.end()) continue;
    ++shared;
    CHECK(shape.type == it->second.type);
    CHECK(shape.labels == it->second.labels);
  }
  return shared;
}

TEST_CASE("postgres families match Debian's prometheus-postgres-exporter 0.11",
          "[integration][compat][postgres]") {
  const fs::path queries_example =
      "/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml";
  // Installed by scripts/install-deps.sh; fail loudly when missing.
  REQUIRE(fs::exists("/usr/bin/prometheus-postgres-exporter"));
  REQUIRE(fs::exists(queries_example));
  TempDir dir;
  OwnPostgres pg(dir.path / "pg");
  pg.Sql("CREATE TABLE orders (id int PRIMARY KEY, v text)");
  pg.Sql("INSERT INTO orders SELECT g, 'x' FROM generate_series(1, 100) g");
  pg.Sql("SELECT count(*) FROM orders WHERE id = 3");
  pg.Sql("ANALYZE orders");

  // The example queries before pg_stat_statements (pg_replication, pg_postmaster,
  // pg_stat_user_tables, pg_statio_user_tables).
  {
    std::ifstream in(queries_example);
    std::ofstream out(dir.path / "queries.yaml");
    std::string line;
    bool kept_any = false;
    while (std::getline(in, line) && !line.starts_with("pg_stat_statements:")) {
      out << line << "\n";
      kept_any = kept_any || line.starts_with("pg_stat_user_tables:");
    }
    REQUIRE(kept_any);
  }
  std::string dsn = "host=127.0.0.1 port=" + std::to_string(pg.port) + " user=postgres";
  int exporter_port = testing::FreePort();
  setenv("DATA_SOURCE_NAME", (dsn + " dbname=postgres sslmode=disable").c_str(), 1);
  Subprocess exporter({"/usr/bin/prometheus-postgres-exporter",
                       "--web.listen-address=127.0.0.1:" + std::to_string(exporter_port),
                       "--extend.query-path=" + (dir.path / "queries.yaml").string()},
                      (dir.path / "exporter.log").string());
  unsetenv("DATA_SOURCE_NAME");
  {
    std::ofstream cfg(dir.path / "vigil.yml");
    cfg << "global: {collect_interval: 1s, collect_timeout: 900ms}\n"
        << "postgres:\n"
        << "  - {name: main, dsn: \"" << dsn << " dbname=postgres\", databases: auto,\n"
        << "     statements: {interval: 1s}}\n";
  }
  int port = testing::FreePort();
  Subprocess vigil({VIGIL_BINARY, "--config.file=" + (dir.path / "vigil.yml").string(),
                    "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                   (dir.path / "vigil.log").string());
  REQUIRE(testing::WaitForHttp("127.0.0.1", port, "/-/ready", 10s));
  std::string ours = WaitFor(port, "pg_stat_user_tables_seq_scan\\{[^}]*relname=\"orders\"", 15s);
  std::string theirs =
      WaitFor(exporter_port, "pg_stat_user_tables_seq_scan\\{[^}]*relname=\"orders\"", 15s);
  INFO(exporter.Output());
  REQUIRE(theirs.find("pg_up 1") != std::string::npos);

  // postgres_exporter 0.11 puts server="host:port" on its series; vigil's `target` plays
  // that part (it serves many servers from one /metrics). Both are left out.
  auto our_shapes = Shapes(ours, "pg_", {"target"});
  auto their_shapes = Shapes(theirs, "pg_", {"server"});
  // Deliberately vigil's own (documented in docs/configuration.md), with the reason.
  const std::map<std::string, std::string> vigil_only = {
      {"pg_replication_is_replica", "postgres_exporter 0.13+'s replication collector name"},
      {"pg_replication_lag_seconds",
       "postgres_exporter 0.13+'s name; 0.11's queries.yaml says pg_replication_lag"},
      {"pg_stat_replication_replicas", "vigil's: count of connected replicas"},
      {"pg_stat_activity_active_waiting_count", "vigil's: active sessions by wait_event_type"},
      {"pg_stat_activity_oldest_query_seconds", "vigil's: age of the oldest running query"},
      {"pg_stat_activity_oldest_idle_in_transaction_seconds", "vigil's: idle-in-tx age"},
      {"pg_locks_waiting_sessions", "vigil's: sessions waiting on a lock"},
      {"pg_locks_oldest_wait_seconds", "vigil's: longest lock wait"},
      {"pg_stat_user_indexes_idx_scan", "not in 0.11; pg_stat_user_tables' naming pattern"},
      {"pg_stat_user_indexes_idx_tup_read", "not in 0.11; pg_stat_user_tables' naming pattern"},
      {"pg_stat_user_indexes_idx_tup_fetch", "not in 0.11; pg_stat_user_tables' naming pattern"},
      {"pg_stat_user_indexes_size_bytes", "vigil's: index size"},
      {"pg_stat_statements_deallocations_total", "vigil's: pg_stat_statements_info (PG14+)"},
      {"pg_database_wraparound_age_datfrozenxid_seconds",
       "postgres_exporter 0.15+'s database_wraparound name (the values are XID ages)"},
      {"pg_database_wraparound_age_datminmxid_seconds",
       "postgres_exporter 0.15+'s database_wraparound name (multixact ages)"},
      {"pg_database_wraparound_freeze_ratio", "vigil's: age over the freeze max ages"},
      {"pg_table_frozenxid_age", "vigil's: oldest tables by relfrozenxid"},
      {"pg_table_minmxid_age", "vigil's: oldest tables by relminmxid"},
      {"pg_xmin_horizon_age", "vigil's: what holds the xmin horizon back, by kind"},
      {"pg_xmin_horizon_age_seconds", "vigil's: the same in seconds"},
      {"pg_replication_slots", "vigil's: count of replication slots"},
      {"pg_replication_slot_slot_is_active", "postgres_exporter 0.13+'s replication_slot name"},
      {"pg_replication_slot_safe_wal_size_bytes", "postgres_exporter 0.13+'s name"},
      {"pg_replication_slot_wal_status", "postgres_exporter 0.13+'s name, as a state set"},
      {"pg_replication_slot_retained_wal_bytes", "vigil's: WAL kept from restart_lsn"},
      {"pg_replication_slot_xmin_age", "vigil's: age(xmin) of a slot"},
      {"pg_replication_slot_catalog_xmin_age", "vigil's: age(catalog_xmin) of a slot"},
      {"pg_stat_replication_write_lag_seconds", "vigil's: write_lag per replica"},
      {"pg_stat_replication_flush_lag_seconds", "vigil's: flush_lag per replica"},
      {"pg_stat_replication_replay_lag_seconds", "vigil's: replay_lag per replica"},
      {"pg_stat_wal_wal_records_total", "vigil's: pg_stat_wal (PG14+)"},
      {"pg_stat_wal_wal_fpi_total", "vigil's: pg_stat_wal (PG14+)"},
      {"pg_stat_wal_wal_bytes_total", "vigil's: pg_stat_wal (PG14+)"},
      {"pg_stat_wal_wal_buffers_full_total", "vigil's: pg_stat_wal (PG14+)"},
      {"pg_stat_wal_wal_write_total", "vigil's: pg_stat_wal (PG14-17)"},
      {"pg_stat_wal_wal_sync_total", "vigil's: pg_stat_wal (PG14-17)"},
      {"pg_stat_wal_wal_write_seconds_total", "vigil's: pg_stat_wal (PG14-17)"},
      {"pg_stat_wal_wal_sync_seconds_total", "vigil's: pg_stat_wal (PG14-17)"},
      {"pg_wal_segments", "postgres_exporter 0.13+'s wal collector name"},
      {"pg_wal_size_bytes", "postgres_exporter 0.13+'s wal collector name"},
      {"pg_stat_archiver_last_failed_age", "vigil's: seconds since the last failure"},
      {"pg_stat_archiver_failing", "vigil's: the last archive attempt failed"},
      {"pg_stat_activity_sessions", "vigil's: sessions by application_name and user, top N"},
      {"pg_stat_activity_sessions_other", "vigil's: sessions outside those top N groups"},
      {"pg_stat_activity_wait_event_count", "vigil's: active sessions by wait_event"},
  };
  std::size_t shared = CompareShapes(our_shapes, their_shapes, vigil_only);
  CHECK(shared >= 60);
  // The families the docs name as postgres_exporter's, present in both.
  for (const char* name :
       {"pg_up", "pg_static", "pg_postmaster_start_time_seconds", "pg_settings_max_connections",
        "pg_settings_shared_buffers_bytes", "pg_stat_database_xact_commit",
        "pg_stat_database_blks_hit", "pg_stat_database_stats_reset", "pg_database_size_bytes",
        "pg_stat_activity_count", "pg_stat_activity_max_tx_duration", "pg_locks_count",
        "pg_stat_user_tables_seq_scan", "pg_stat_user_tables_n_live_tup",
        "pg_stat_user_tables_last_autovacuum", "pg_stat_bgwriter_buffers_alloc_total",
        "pg_stat_bgwriter_checkpoints_timed_total"}) {
    INFO(name);
    CHECK(our_shapes.count(name) == 1);
    CHECK(their_shapes.count(name) == 1);
  }
  // Label values too, where they are enumerations both fill in the same way.
  CHECK(our_shapes["pg_stat_activity_count"].values["state"] ==
        their_shapes["pg_stat_activity_count"].values["state"]);
  CHECK(our_shapes["pg_locks_count"].values["mode"] ==
        their_shapes["pg_locks_count"].values["mode"]);
  // Deliberate: postgres_exporter also exports pg_stat_database's shared-objects row
  // (datid 0, datname empty, PostgreSQL 12+); vigil reads only rows that name a database.
  std::set<std::string> their_datnames =
      their_shapes["pg_stat_database_numbackends"].values["datname"];
  their_datnames.erase("");
  CHECK(our_shapes["pg_stat_database_numbackends"].values["datname"] == their_datnames);
}

TEST_CASE("process families match Debian's prometheus-process-exporter 0.7",
          "[integration][compat][process]") {
  REQUIRE(fs::exists("/usr/bin/prometheus-process-exporter"));
  TempDir dir;
  // A group of our own: two sleep processes under a comm nobody else uses.
  fs::path exe = dir.path / "vigilcompatslp";
  fs::copy_file("/bin/sleep", exe);
  Subprocess a({exe.string(), "60"}, (dir.path / "a.log").string());
  Subprocess b({exe.string(), "60"}, (dir.path / "b.log").string());
  {
    std::ofstream cfg(dir.path / "process.yml");
    cfg << "process_names:\n  - name: compat\n    comm: [vigilcompatslp]\n";
  }
  int exporter_port = testing::FreePort();
  Subprocess exporter(
      {"/usr/bin/prometheus-process-exporter", "-config.path", (dir.path / "process.yml").string(),
       "-web.listen-address", "127.0.0.1:" + std::to_string(exporter_port)},
      (dir.path / "exporter.log").string());
  {
    std::ofstream cfg(dir.path / "vigil.yml");
    cfg << "global: {collect_interval: 1s, collect_timeout: 900ms}\n"
        << "process: [{name: compat, match: {comm: vigilcompatslp}}]\n";
  }
  int port = testing::FreePort();
  Subprocess vigil({VIGIL_BINARY, "--config.file=" + (dir.path / "vigil.yml").string(),
                    "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                   (dir.path / "vigil.log").string());
  REQUIRE(testing::WaitForHttp("127.0.0.1", port, "/-/ready", 10s));
  std::string ours =
      WaitFor(port, "namedprocess_namegroup_num_procs\\{groupname=\"compat\"[^}]*\\} 2\n", 10s);
  std::string theirs =
      WaitFor(exporter_port, "namedprocess_namegroup_num_procs\\{groupname=\"compat\"\\} 2\n", 10s);

  auto our_shapes = Shapes(ours, "namedprocess_", {"target"});
  auto their_shapes = Shapes(theirs, "namedprocess_", {});
  std::size_t shared = CompareShapes(our_shapes, their_shapes, {});
  CHECK(shared >= 13);
  for (const char* name :
       {"namedprocess_namegroup_num_procs", "namedprocess_namegroup_cpu_seconds_total",
        "namedprocess_namegroup_memory_bytes", "namedprocess_namegroup_num_threads",
        "namedprocess_namegroup_open_filedesc", "namedprocess_namegroup_worst_fd_ratio",
        "namedprocess_namegroup_oldest_start_time_seconds",
        "namedprocess_namegroup_read_bytes_total", "namedprocess_namegroup_write_bytes_total",
        "namedprocess_namegroup_major_page_faults_total",
        "namedprocess_namegroup_minor_page_faults_total",
        "namedprocess_namegroup_context_switches_total", "namedprocess_namegroup_states"}) {
    INFO(name);
    CHECK(our_shapes.count(name) == 1);
    CHECK(their_shapes.count(name) == 1);
  }
  // Enumerated label values are the same too.
  for (const auto& [family, label] : std::vector<std::pair<std::string, std::string>>{
           {"namedprocess_namegroup_memory_bytes", "memtype"},
           {"namedprocess_namegroup_cpu_seconds_total", "mode"},
           {"namedprocess_namegroup_context_switches_total", "ctxswitchtype"},
           {"namedprocess_namegroup_states", "state"}}) {
    INFO(family << " " << label);
    CHECK(our_shapes[family].values[label] == their_shapes[family].values[label]);
  }
  CHECK(our_shapes["namedprocess_namegroup_num_threads"].values["groupname"] ==
        std::set<std::string>{"compat"});
}

}  // namespace
}  // namespace vigil
