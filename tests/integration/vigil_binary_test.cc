// Runs the real vigil binary: serve, scrape, promtool, reload (good and bad), SIGTERM.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/subprocess.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Subprocess;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("vigil-it-" + std::to_string(getpid()) + "-" + std::to_string(rand()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

std::string Get(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  auto res = c.Get(path.c_str());
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return res->body;
}

// Starts vigil on `config` at a free port and waits until it is ready.
struct RunningVigil {
  int port = testing::FreePort();
  std::unique_ptr<Subprocess> proc;
  RunningVigil(const fs::path& config, const fs::path& log, bool lifecycle = true) {
    std::vector<std::string> args{VIGIL_BINARY, "--config.file=" + config.string(),
                                  "--web.listen-address=127.0.0.1:" + std::to_string(port)};
    if (lifecycle) args.push_back("--web.enable-lifecycle");
    proc = std::make_unique<Subprocess>(args, log.string());
    if (!testing::WaitForHttp("127.0.0.1", port, "/-/ready", 10s)) {
      FAIL("vigil did not become ready:\n" << proc->Output());
    }
  }
};

// promtool's lint flags postgres_exporter's own names (counters without _total, gauges
// ending in _count), which vigil keeps so existing dashboards work. Anything else fails.
void CheckPromtoolAccepts(const fs::path& metrics_file) {
  auto [rc, out] = testing::RunCommand("promtool check metrics < " + metrics_file.string());
  INFO(out);
  CHECK((rc == 0 || rc == 3));
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    INFO(line);
    CHECK(line.starts_with("pg_"));
    CHECK((line.find("should have \"_total\" suffix") != std::string::npos ||
           line.find("should not have \"_count\" suffix") != std::string::npos));
  }
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("vigil serves /metrics that promtool accepts", "[integration]") {
  TempDir dir;
  // The example config, pointed at the harness's PostgreSQL.
  std::string config = ReadText(fs::path(VIGIL_SOURCE_DIR) / "examples/vigil.yml");
  std::string pg_port = testing::RequireEnv("VIGIL_TEST_PG_PORT");
  std::size_t at = config.find("port=5432");
  REQUIRE(at != std::string::npos);
  config.replace(at, 9, "port=" + pg_port);
  WriteFile(dir.path / "vigil.yml", config);
  RunningVigil vigil(dir.path / "vigil.yml", dir.path / "vigil.log");
  std::string metrics = Get(vigil.port, "/metrics");
  WriteFile(dir.path / "metrics.txt", metrics);
  CheckPromtoolAccepts(dir.path / "metrics.txt");
  CHECK(metrics.find("pg_up{target=\"main\"} 1\n") != std::string::npos);
  CHECK(metrics.find("vigil_collector_up{collector=\"process\",target=\"vigil\"} 1\n") !=
        std::string::npos);
  CHECK(metrics.find("namedprocess_namegroup_num_procs{groupname=\"vigil\"} 1\n") !=
        std::string::npos);
  CHECK(metrics.find("vigil_config_last_reload_successful 1\n") != std::string::npos);
  CHECK(std::regex_search(metrics, std::regex("\nprocess_resident_memory_bytes [0-9.e+]+\n")));
  CHECK(Get(vigil.port, "/-/healthy").find("healthy") != std::string::npos);

  // What was collected is in the window: PromQL over it, as Prometheus answers.
  std::string q =
      Get(vigil.port, "/api/v1/query?query=vigil_collector_up%7Bcollector%3D%22self%22%7D");
  CHECK(q.find("\"status\":\"success\"") != std::string::npos);
  CHECK(q.find("\"resultType\":\"vector\"") != std::string::npos);
  CHECK(q.find("\"target\":\"vigil\"") != std::string::npos);
  CHECK(q.find("\"1\"]") != std::string::npos);
  std::string pg = Get(vigil.port, "/api/v1/query?query=pg_up");
  INFO(pg);
  CHECK(pg.find("\"1\"]") != std::string::npos);
  httplib::Client c("127.0.0.1", vigil.port);
  auto bad = c.Get("/api/v1/query?query=sum(");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->body.find("\"errorType\":\"bad_data\"") != std::string::npos);
  auto [rc_q, out_q] = testing::RunCommand(
      std::string(VIGIL_BINARY) +
      " query 'count(vigil_collector_up)' --url=http://127.0.0.1:" + std::to_string(vigil.port));
  CHECK(rc_q == 0);
  CHECK(out_q.find("\"value\"") != std::string::npos);
  std::string collectors = Get(vigil.port, "/api/v1/collectors");
  CHECK(collectors.find("{\"collector\":\"postgres\"") != std::string::npos);
  CHECK(collectors.find("\"up\":true") != std::string::npos);
  CHECK(Get(vigil.port, "/api/v1/postgres/statements").find("\"target\":\"main\"") !=
        std::string::npos);

  vigil.proc->Signal(SIGTERM);
  CHECK(vigil.proc->Wait(5s) == 0);
  CHECK(vigil.proc->Output().find("msg=stopped") != std::string::npos);
}

TEST_CASE("A broken config on reload is rejected and the old one keeps running", "[integration]") {
  TempDir dir;
  fs::path config = dir.path / "vigil.yml";
  WriteFile(config,
            "global: {collect_interval: 1s}\nprocess:\n  - {name: me, match: {self: true}}\n");
  RunningVigil vigil(config, dir.path / "vigil.log");

  WriteFile(config,
            "global: {collect_interval: 1s}\nprocess:\n  - {name: me, match: {self: yes}}\n"
            "  - name: x\n    match: {comm: x}\n    bogus: 1\n");
  httplib::Client c("127.0.0.1", vigil.port);
  auto res = c.Post("/-/reload");
  REQUIRE(res);
  CHECK(res->status == 500);
  CHECK(res->body.find(config.string() + ":6:5: process[1]: unknown key \"bogus\"") !=
        std::string::npos);
  std::string metrics = Get(vigil.port, "/metrics");
  CHECK(metrics.find("vigil_config_last_reload_successful 0\n") != std::string::npos);
  CHECK(metrics.find("namedprocess_namegroup_num_procs{groupname=\"me\"} 1\n") !=
        std::string::npos);
  CHECK(vigil.proc->Output().find("reload failed; the running config stays") != std::string::npos);

  // A good config by SIGHUP: the new group appears, the flag returns to 1.
  WriteFile(config,
            "global: {collect_interval: 1s}\nprocess:\n  - {name: me2, match: {self: true}}\n");
  REQUIRE(vigil.proc->Signal(SIGHUP));
  bool reloaded = false;
  for (int i = 0; i < 100 && !reloaded; ++i) {
    std::this_thread::sleep_for(50ms);
    metrics = Get(vigil.port, "/metrics");
    reloaded = metrics.find("namedprocess_namegroup_num_procs{groupname=\"me2\"} 1\n") !=
               std::string::npos;
  }
  CHECK(reloaded);
  CHECK(metrics.find("vigil_config_last_reload_successful 1\n") != std::string::npos);
  CHECK(metrics.find("groupname=\"me\"") == std::string::npos);  // the old group is gone

  vigil.proc->Signal(SIGTERM);
  CHECK(vigil.proc->Wait(5s) == 0);
}

TEST_CASE("/-/reload needs --web.enable-lifecycle and refuses what a cross-site page can send",
          "[integration][security]") {
  TempDir dir;
  fs::path config = dir.path / "vigil.yml";
  WriteFile(config,
            "global: {collect_interval: 1s}\nprocess:\n  - {name: me, match: {self: true}}\n");
  {
    RunningVigil closed(config, dir.path / "closed.log", /*lifecycle=*/false);
    httplib::Client c("127.0.0.1", closed.port);
    auto res = c.Post("/-/reload");
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(res->body.find("--web.enable-lifecycle") != std::string::npos);
  }
  RunningVigil vigil(config, dir.path / "vigil.log");
  httplib::Client c("127.0.0.1", vigil.port);
  const std::string host = "127.0.0.1:" + std::to_string(vigil.port);
  struct Attempt {
    const char* what;
    httplib::Headers headers;
    const char* content_type;
  };
  const std::vector<Attempt> refused = {
      {"form post", {}, "application/x-www-form-urlencoded"},
      {"multipart form", {}, "multipart/form-data; boundary=x"},
      {"text/plain form", {}, "text/plain"},
      {"upper-case form type", {}, "Text/Plain; charset=UTF-8"},
      {"foreign Origin", {{"Origin", "http://evil.example"}}, "application/json"},
      {"Origin of another port", {{"Origin", "http://127.0.0.1:1"}}, "application/json"},
      {"Sec-Fetch-Site cross-site", {{"Sec-Fetch-Site", "cross-site"}}, "application/json"},
      {"Sec-Fetch-Site same-site", {{"Sec-Fetch-Site", "same-site"}}, "application/json"},
  };
  for (const Attempt& a : refused) {
    CAPTURE(a.what);
    auto res = c.Post("/-/reload", a.headers, "", a.content_type);
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(res->body.find("refused") != std::string::npos);
  }
  // The GET a cross-site <img> or link can send is not a reload either.
  auto get = c.Get("/-/reload");
  REQUIRE(get);
  CHECK(get->status == 405);
  // What an operator sends: curl -X POST, and a same-origin page.
  auto plain = c.Post("/-/reload");
  REQUIRE(plain);
  CHECK(plain->status == 200);
  auto same = c.Post("/-/reload", {{"Origin", "http://" + host}, {"Sec-Fetch-Site", "same-origin"}},
                     "", "application/json");
  REQUIRE(same);
  CHECK(same->status == 200);
  CHECK(Get(vigil.port, "/metrics").find("vigil_config_last_reload_successful 1\n") !=
        std::string::npos);
}

TEST_CASE("A reload that removes a collector marks its series stale at once", "[integration]") {
  TempDir dir;
  fs::path config = dir.path / "vigil.yml";
  WriteFile(config,
            "global: {collect_interval: 1s}\nprocess:\n  - {name: gone, match: {self: true}}\n"
            "  - {name: kept, match: {self: true}}\n");
  RunningVigil vigil(config, dir.path / "vigil.log");
  auto query = [&](const std::string& q) {
    httplib::Client c("127.0.0.1", vigil.port);
    auto res = c.Get("/api/v1/query", httplib::Params{{"query", q}}, httplib::Headers{});
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return res->body;
  };
  const std::string gone = "namedprocess_namegroup_num_procs{groupname=\"gone\"}";
  const std::string gone_up = "vigil_collector_up{collector=\"process\",target=\"gone\"}";
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    std::this_thread::sleep_for(50ms);
    seen = query(gone).find("\"gone\"") != std::string::npos &&
           query(gone_up).find("\"gone\"") != std::string::npos;
  }
  REQUIRE(seen);
  WriteFile(config,
            "global: {collect_interval: 1s}\nprocess:\n  - {name: kept, match: {self: true}}\n");
  httplib::Client c("127.0.0.1", vigil.port);
  auto res = c.Post("/-/reload");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  // Within the 5m lookback the last samples would still answer; stale markers end them now.
  std::string after = query(gone);
  INFO(after);
  CHECK(after.find("\"result\":[]") != std::string::npos);
  CHECK(query(gone_up).find("\"result\":[]") != std::string::npos);
  CHECK(query("namedprocess_namegroup_num_procs{groupname=\"kept\"}").find("\"kept\"") !=
        std::string::npos);
  CHECK(Get(vigil.port, "/metrics").find("groupname=\"gone\"") == std::string::npos);
}

TEST_CASE("vigil check config prints one line per problem and exits non-zero", "[integration]") {
  TempDir dir;
  WriteFile(dir.path / "bad.yml", "global:\n  collect_interval: soon\n");
  auto [rc, out] = testing::RunCommand(std::string(VIGIL_BINARY) + " check config " +
                                       (dir.path / "bad.yml").string());
  CHECK(rc == 1);
  CHECK(out == (dir.path / "bad.yml").string() +
                   ":2:21: global.collect_interval: invalid duration \"soon\" (want e.g. 15s, "
                   "1m30s, 500ms)\n");
  auto [rc_ok, out_ok] = testing::RunCommand(std::string(VIGIL_BINARY) + " check config " +
                                             VIGIL_SOURCE_DIR + "/examples/vigil.yml");
  CHECK(rc_ok == 0);
  CHECK(out_ok.find("SUCCESS") != std::string::npos);
  auto [rc_bad_flag, out_bad_flag] = testing::RunCommand(std::string(VIGIL_BINARY) + " --nope");
  CHECK(rc_bad_flag == 2);
  CHECK(out_bad_flag.find("unknown flag --nope") != std::string::npos);
}

TEST_CASE("Process groups find the real PostgreSQL and Redis the harness started",
          "[integration]") {
  testing::RequireEnv("VIGIL_TEST_PG_PORT");
  testing::RequireEnv("VIGIL_TEST_REDIS_PORT");
  TempDir dir;
  WriteFile(dir.path / "vigil.yml",
            "global: {collect_interval: 1s}\nprocess:\n"
            "  - {name: pg, match: {comm: [postgres, postmaster]}}\n"
            "  - {name: redis, match: {comm: redis-server}}\n");
  RunningVigil vigil(dir.path / "vigil.yml", dir.path / "vigil.log");
  std::string metrics = Get(vigil.port, "/metrics");
  std::smatch m;
  REQUIRE(std::regex_search(
      metrics, m, std::regex("namedprocess_namegroup_num_procs\\{groupname=\"pg\"\\} (\\d+)")));
  CHECK(std::stoi(m[1]) >= 5);  // postmaster + background workers
  REQUIRE(std::regex_search(
      metrics, m,
      std::regex("namedprocess_namegroup_num_threads\\{groupname=\"redis\"\\} (\\d+)")));
  CHECK(std::stoi(m[1]) >= 1);
}

}  // namespace
}  // namespace vigil
