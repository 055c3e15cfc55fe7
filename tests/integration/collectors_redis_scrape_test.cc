// The vigil binary against real Redis servers and a real scrape target (the harness'
// Prometheus): names and labels on /metrics, hit ratio, slowlog digest, one dead Redis not
// blanking the other, and recovery when it comes back on the same port.
#include <httplib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
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

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("vigil-crs-" + std::to_string(getpid()) + "-" + std::to_string(rand()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string Metrics(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_tcp_nodelay(true);
  auto res = c.Get("/metrics");
  return res && res->status == 200 ? res->body : "";
}

// Polls /metrics until `pattern` matches (bounded); returns the last body.
std::string WaitFor(int port, const std::string& pattern, std::chrono::milliseconds timeout) {
  std::regex re(pattern);
  std::string body;
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(200ms)) {
    body = Metrics(port);
    if (std::regex_search(body, re)) return body;
  }
  FAIL("timed out waiting for /" << pattern << "/ in:\n" << body);
  return body;
}

std::string RedisCli(int port, const std::string& args) {
  auto [rc, out] = RunCommand("redis-cli -h 127.0.0.1 -p " + std::to_string(port) + " " + args);
  REQUIRE(rc == 0);
  return out;
}

TEST_CASE("redis and scrape collectors against real servers", "[integration][redis][scrape]") {
  int main_port = std::stoi(testing::RequireEnv("VIGIL_TEST_REDIS_PORT"));
  std::string prometheus_url = testing::RequireEnv("VIGIL_TEST_PROMETHEUS_URL");
  TempDir dir;
  fs::path redis_dir = dir.path / "redis";
  std::string servers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";
  auto [rc, started] = RunCommand(servers + " start redis " + redis_dir.string());
  REQUIRE(rc == 0);
  int extra_port = std::stoi(started);
  struct StopRedis {
    std::string cmd;
    ~StopRedis() { RunCommand(cmd); }
  } stop_redis{servers + " stop redis " + redis_dir.string()};

  // Traffic on the extra Redis: 3 hits, 1 miss, every command in the slowlog.
  RedisCli(extra_port, "config set slowlog-log-slower-than 0");
  RedisCli(extra_port, "set k v");
  for (int i = 0; i < 3; ++i) RedisCli(extra_port, "get k");
  RedisCli(extra_port, "get missing");
  RedisCli(main_port, "set vigil_it_key v");
  RedisCli(main_port, "get vigil_it_key");
  RedisCli(main_port, "get vigil_it_missing");

  {
    std::ofstream cfg(dir.path / "vigil.yml");
    cfg << "global: {collect_interval: 1s, collect_timeout: 800ms}\n"
        << "redis:\n"
        << "  - {name: main, address: 127.0.0.1:" << main_port << "}\n"
        << "  - {name: extra, address: 127.0.0.1:" << extra_port << "}\n"
        << "scrape:\n"
        << "  - {name: prometheus, url: " << prometheus_url << "/metrics, sample_limit: 100000}\n";
  }
  int port = testing::FreePort();
  Subprocess vigil({VIGIL_BINARY, "--config.file=" + (dir.path / "vigil.yml").string(),
                    "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                   (dir.path / "vigil.log").string());
  REQUIRE(testing::WaitForHttp("127.0.0.1", port, "/-/ready", 10s));

  std::string m = WaitFor(port, "redis_keyspace_hit_ratio\\{target=\"extra\"\\} 0.75\n", 10s);
  CHECK(m.find("redis_up{target=\"main\"} 1\n") != std::string::npos);
  CHECK(m.find("redis_up{target=\"extra\"} 1\n") != std::string::npos);
  CHECK(m.find("redis_keyspace_hits_total{target=\"extra\"} 3\n") != std::string::npos);
  CHECK(m.find("redis_keyspace_misses_total{target=\"extra\"} 1\n") != std::string::npos);
  CHECK(std::regex_search(m, std::regex("redis_keyspace_misses_total\\{target=\"main\"\\} [1-9]")));
  CHECK(m.find("redis_commands_total{cmd=\"get\",target=\"extra\"} 4\n") != std::string::npos);
  CHECK(m.find("redis_db_keys{db=\"db0\",target=\"extra\"} 1\n") != std::string::npos);
  CHECK(m.find("# TYPE redis_latency_percentiles_usec summary") != std::string::npos);
  CHECK(m.find("redis_slowlog_commands_total{cmd=\"get\",target=\"extra\"} 4\n") !=
        std::string::npos);
  CHECK(std::regex_search(
      m, std::regex("redis_instance_info\\{[^}]*redis_version=\"7[^}]*target=\"extra\"")));
  // The scrape target: Prometheus' own metrics under job/instance.
  std::string prom_instance = prometheus_url.substr(prometheus_url.find("://") + 3);
  m = WaitFor(port, "vigil_collector_up\\{collector=\"scrape\",target=\"prometheus\"\\} 1\n", 10s);
  CHECK(std::regex_search(m, std::regex("prometheus_build_info\\{[^}]*instance=\"" + prom_instance +
                                        "\",job=\"prometheus\"")));
  CHECK(std::regex_search(
      m, std::regex("scrape_samples_scraped\\{instance=\"[^\"]+\",job=\"prometheus\"\\} [1-9]")));
  {
    std::ofstream(dir.path / "metrics.txt") << m;
    auto [prc, pout] =
        RunCommand("promtool check metrics < " + (dir.path / "metrics.txt").string() +
                   " 2>&1 | grep -v -e 'counter metrics should have' -e " +
                   "'non-histogram and non-summary metrics should not' || true");
    INFO(pout);
    CHECK(pout.find("error") == std::string::npos);
  }

  // Slowlog entries are counted once: more polls, no growth without new commands.
  std::this_thread::sleep_for(2500ms);
  m = Metrics(port);
  CHECK(m.find("redis_slowlog_commands_total{cmd=\"get\",target=\"extra\"} 4\n") !=
        std::string::npos);

  // Stop the extra Redis: only its instance goes down.
  RunCommand(servers + " stop redis " + redis_dir.string());
  m = WaitFor(port, "vigil_collector_up\\{collector=\"redis\",target=\"extra\"\\} 0\n", 10s);
  CHECK(m.find("vigil_collector_up{collector=\"redis\",target=\"main\"} 1\n") != std::string::npos);
  CHECK(m.find("redis_up{target=\"extra\"} 0\n") != std::string::npos);
  CHECK(m.find("redis_up{target=\"main\"} 1\n") != std::string::npos);

  // Restart it on the same port: vigil reconnects by itself.
  auto [rrc, rout] = RunCommand(
      "redis-server --bind 127.0.0.1 --port " + std::to_string(extra_port) +
      " --save '' --appendonly no --daemonize yes --dir " + redis_dir.string() + " --pidfile " +
      (redis_dir / "pid").string() + " --logfile " + (redis_dir / "redis2.log").string());
  INFO(rout);
  REQUIRE(rrc == 0);
  m = WaitFor(port, "vigil_collector_up\\{collector=\"redis\",target=\"extra\"\\} 1\n", 10s);
  CHECK(m.find("redis_up{target=\"extra\"} 1\n") != std::string::npos);
  CHECK(m.find("redis_db_keys{db=\"db0\",target=\"extra\"}") == std::string::npos);  // empty now
  CHECK(vigil.Output().find("hunter") == std::string::npos);
}

// Family name -> (type, label names) of the redis_* families in an exposition.
struct FamilyShape {
  std::string type;
  std::set<std::string> labels;
};
std::map<std::string, FamilyShape> Shapes(const std::string& text, const std::string& drop_label) {
  std::map<std::string, FamilyShape> out;
  std::istringstream in(text);
  std::string line;
  std::regex type_re("^# TYPE (redis_[a-zA-Z0-9_:]*) ([a-z]+)$");
  std::regex sample_re("^(redis_[a-zA-Z0-9_:]*)(\\{(.*)\\})? ");
  std::regex label_re("([a-zA-Z_][a-zA-Z0-9_]*)=\"");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, type_re)) {
      out[m[1]].type = m[2];
      continue;
    }
    if (!std::regex_search(line, m, sample_re)) continue;
    std::string name = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string base = name.substr(0, name.size() - std::min(name.size(), strlen(suffix)));
      if (name.ends_with(suffix) && out.count(base) &&
          (out[base].type == "summary" || out[base].type == "histogram")) {
        name = base;
      }
    }
    std::string labels = m[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), label_re), end; it != end; ++it) {
      std::string l = (*it)[1];
      if (l != drop_label && l != "quantile" && l != "le") out[name].labels.insert(l);
    }
  }
  return out;
}

TEST_CASE("redis families match Debian's prometheus-redis-exporter", "[integration][redis]") {
  // Installed by scripts/install-deps.sh; fail loudly when it is missing.
  REQUIRE(RunCommand("command -v prometheus-redis-exporter").first == 0);
  TempDir dir;
  fs::path redis_dir = dir.path / "redis";
  std::string servers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";
  auto [rc, started] = RunCommand(servers + " start redis " + redis_dir.string());
  REQUIRE(rc == 0);
  int redis_port = std::stoi(started);
  struct StopRedis {
    std::string cmd;
    ~StopRedis() { RunCommand(cmd); }
  } stop_redis{servers + " stop redis " + redis_dir.string()};
  RedisCli(redis_port, "config set slowlog-log-slower-than 0");
  RedisCli(redis_port, "set k v");
  RedisCli(redis_port, "get k");
  RedisCli(redis_port, "get missing");
  RedisCli(redis_port, "nosuchcommand");

  int exporter_port = testing::FreePort();
  Subprocess exporter({"/usr/bin/prometheus-redis-exporter",
                       "-redis.addr=redis://127.0.0.1:" + std::to_string(redis_port),
                       "-web.listen-address=127.0.0.1:" + std::to_string(exporter_port)},
                      (dir.path / "exporter.log").string());
  REQUIRE(testing::WaitForHttp("127.0.0.1", exporter_port, "/metrics", 10s));
  {
    std::ofstream cfg(dir.path / "vigil.yml");
    cfg << "global: {collect_interval: 1s, collect_timeout: 800ms}\n"
        << "redis: [{name: r, address: 127.0.0.1:" << redis_port << "}]\n";
  }
  int port = testing::FreePort();
  Subprocess vigil({VIGIL_BINARY, "--config.file=" + (dir.path / "vigil.yml").string(),
                    "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                   (dir.path / "vigil.log").string());
  REQUIRE(testing::WaitForHttp("127.0.0.1", port, "/-/ready", 10s));
  std::string ours = WaitFor(port, "redis_slowlog_length\\{target=\"r\"\\}", 10s);
  std::string theirs = Metrics(exporter_port);
  REQUIRE(theirs.find("redis_up 1") != std::string::npos);

  auto our_shapes = Shapes(ours, "target");
  auto their_shapes = Shapes(theirs, "");
  // vigil's own families (documented as such); everything else must exist in redis_exporter.
  const std::set<std::string> vigil_only = {
      "redis_keyspace_hit_ratio", "redis_slowlog_commands_total",
      "redis_slowlog_commands_duration_seconds_total", "redis_slowlog_missed_entries_total"};
  std::size_t shared = 0;
  for (const auto& [name, shape] : our_shapes) {
    INFO(name);
    if (vigil_only.count(name)) {
      CHECK(their_shapes.count(name) == 0);
      continue;
    }
    auto it = their_shapes.find(name);
    CHECK(it != their_shapes.end());
    if (it == their_shapes.end()) continue;
    ++shared;
    CHECK(shape.type == it->second.type);
    CHECK(shape.labels == it->second.labels);
  }
  CHECK(shared >= 50);
  // The ones the brief names, present in both.
  for (const char* name :
       {"redis_up", "redis_commands_total", "redis_commands_duration_seconds_total",
        "redis_db_keys", "redis_latency_percentiles_usec", "redis_errors_total",
        "redis_instance_info", "redis_keyspace_hits_total"}) {
    INFO(name);
    CHECK(our_shapes.count(name) == 1);
    CHECK(their_shapes.count(name) == 1);
  }
}

}  // namespace
}  // namespace vigil
