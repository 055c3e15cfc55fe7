// End to end: a real rule over data vigil collected from a real Redis fires, reaches the
// harness's real Alertmanager with its annotations rendered, and resolves when Redis is back.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/subprocess.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using testing::WaitFor;
using testing::WriteFile;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kServers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";

json GetJson(const std::string& host, int port, const std::string& path) {
  httplib::Client c(host, port);
  auto res = c.Get(path.c_str());
  if (!res || res->status != 200) return json();
  return json::parse(res->body, nullptr, false);
}

// The alert named `name` as the Alertmanager at `url` holds it (null when absent).
json AmAlert(const std::string& url, const std::string& name) {
  std::string hostport = url.substr(url.find("://") + 3);
  std::size_t colon = hostport.rfind(':');
  json alerts = GetJson(hostport.substr(0, colon), std::stoi(hostport.substr(colon + 1)),
                        "/api/v2/alerts?filter=alertname%3D%22" + name + "%22");
  if (!alerts.is_array() || alerts.empty()) return json();
  return alerts[0];
}

TEST_CASE("An alert over collected data fires at a real Alertmanager and resolves",
          "[integration][alerting]") {
  std::string am = testing::RequireEnv("VIGIL_TEST_ALERTMANAGER_URL");
  fs::path dir = fs::temp_directory_path() / ("vigil-e2e-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto [rc, out] = testing::RunCommand(kServers + " start redis " + (dir / "redis").string());
  REQUIRE(rc == 0);
  int redis_port = std::stoi(out.substr(out.find_last_of('\n', out.size() - 2) + 1));

  WriteFile(dir / "rules.yml", R"(groups:
  - name: e2e
    interval: 1s
    rules:
      - record: e2e:redis_up:max
        expr: max by (target) (redis_up{target="e2e-cache"})
      - alert: E2ERedisDown
        expr: e2e:redis_up:max == 0
        for: 2s
        labels: {severity: critical}
        annotations:
          summary: 'Redis {{ $labels.target }} is down'
          description: 'redis_up is {{ $value }} for {{ $labels.target }}'
)");
  WriteFile(dir / "vigil.yml",
            "global: {collect_interval: 1s, evaluation_interval: 1s, "
            "external_labels: {env: e2e}}\n"
            "redis:\n  - {name: e2e-cache, address: \"127.0.0.1:" +
                std::to_string(redis_port) +
                "\", timeout: 500ms}\n"
                "rule_files: [rules.yml]\n"
                "alerting: {alertmanagers: [\"" +
                am + "\"], resend_delay: 1s}\n");
  auto [check_rc, check_out] = testing::RunCommand(std::string(VIGIL_BINARY) + " check config " +
                                                   (dir / "vigil.yml").string());
  INFO(check_out);
  REQUIRE(check_rc == 0);
  CHECK(check_out.find("2 rules") != std::string::npos);

  int port = testing::FreePort();
  testing::Subprocess vigil({VIGIL_BINARY, "--config.file=" + (dir / "vigil.yml").string(),
                             "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                            (dir / "vigil.log").string());
  REQUIRE(testing::WaitForHttp("127.0.0.1", port, "/-/ready", 10s));
  // Healthy at first: the recording rule records 1, the alert is inactive.
  REQUIRE(WaitFor(
      [&] {
        json r = GetJson("127.0.0.1", port, "/api/v1/query?query=e2e:redis_up:max");
        return r.is_object() && !r["data"]["result"].empty() &&
               r["data"]["result"][0]["value"][1] == "1";
      },
      10s));
  CHECK(AmAlert(am, "E2ERedisDown").is_null());

  testing::RunCommand(kServers + " stop redis " + (dir / "redis").string());
  json fired;
  REQUIRE(WaitFor(
      [&] {
        fired = AmAlert(am, "E2ERedisDown");
        return !fired.is_null();
      },
      20s));
  INFO(fired.dump());
  CHECK(fired["annotations"]["summary"] == "Redis e2e-cache is down");
  CHECK(fired["annotations"]["description"] == "redis_up is 0 for e2e-cache");
  CHECK(fired["labels"]["severity"] == "critical");
  CHECK(fired["labels"]["env"] == "e2e");
  CHECK(fired["generatorURL"].get<std::string>().starts_with("http://"));
  json alerts = GetJson("127.0.0.1", port, "/api/v1/alerts");
  REQUIRE(alerts.is_object());
  REQUIRE(alerts["data"]["alerts"].size() == 1);
  CHECK(alerts["data"]["alerts"][0]["state"] == "firing");
  json rules = GetJson("127.0.0.1", port, "/api/v1/rules");
  CHECK(rules["data"]["groups"][0]["rules"][1]["state"] == "firing");
  CHECK(rules["data"]["groups"][0]["rules"][0]["health"] == "ok");

  // Redis back on the same port: the collector reconnects, the alert resolves at Alertmanager.
  auto [rc2, out2] = testing::RunCommand("VIGIL_PORT=" + std::to_string(redis_port) + " " +
                                         kServers + " start redis " + (dir / "redis").string());
  REQUIRE(rc2 == 0);
  CHECK(WaitFor([&] { return AmAlert(am, "E2ERedisDown").is_null(); }, 20s));
  json after = GetJson("127.0.0.1", port, "/api/v1/alerts");
  CHECK(after["data"]["alerts"].empty());
  std::string metrics;
  {
    httplib::Client c("127.0.0.1", port);
    auto res = c.Get("/metrics");
    REQUIRE(res);
    metrics = res->body;
  }
  CHECK(metrics.find("vigil_notifications_sent_total{alertmanager=\"" + am + "\"}") !=
        std::string::npos);
  CHECK(metrics.find("vigil_rule_group_last_duration_seconds{rule_group=") != std::string::npos);

  vigil.Signal(SIGTERM);
  CHECK(vigil.Wait(5s) == 0);
  testing::RunCommand(kServers + " stop redis " + (dir / "redis").string());
  fs::remove_all(dir);
}

// The shipped alerts about vigil itself read series vigil keeps about its rule engine and its
// notifier: those go into its window, not only onto /metrics.
TEST_CASE("vigil alerts on its own failing rules and on undeliverable and dropped alerts",
          "[integration][alerting]") {
  fs::path dir = fs::temp_directory_path() / ("vigil-self-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string shipped;
  {
    std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/rules/shipped/vigil.yml");
    shipped.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::size_t at = shipped.find("interval: 15s");
  REQUIRE(at != std::string::npos);
  shipped.replace(at, 13, "interval: 1s");
  WriteFile(dir / "vigil-rules.yml", shipped);
  // One rule that fails at every evaluation; two alerts always firing, for a queue of one.
  WriteFile(dir / "broken.yml", R"(groups:
  - name: broken
    interval: 1s
    rules:
      - record: broken:many_to_many
        expr: vigil_collector_up + on () vigil_collector_up
      - alert: AlwaysA
        expr: vector(1)
      - alert: AlwaysB
        expr: vector(2)
)");
  int dead = testing::FreePort();  // nothing listens there
  WriteFile(dir / "vigil.yml",
            "global: {collect_interval: 1s, evaluation_interval: 1s}\n"
            "process:\n  - {name: one, match: {self: true}}\n  - {name: two, match: {self: true}}\n"
            "rule_files: [vigil-rules.yml, broken.yml]\n"
            "alerting: {alertmanagers: [\"http://127.0.0.1:" +
                std::to_string(dead) + "\"], resend_delay: 1s, queue_capacity: 1}\n");
  int port = testing::FreePort();
  testing::Subprocess vigil({VIGIL_BINARY, "--config.file=" + (dir / "vigil.yml").string(),
                             "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                            (dir / "vigil.log").string());
  REQUIRE(testing::WaitForHttp("127.0.0.1", port, "/-/ready", 10s));
  auto firing = [&](const std::string& name) {
    json r = GetJson("127.0.0.1", port, "/api/v1/alerts");
    if (!r.is_object()) return json();
    for (const json& a : r["data"]["alerts"]) {
      if (a["labels"]["alertname"] == name && a["state"] == "firing") return a;
    }
    return json();
  };
  json failures, dropped;
  CHECK(
      WaitFor([&] { return !(failures = firing("VigilRuleEvaluationFailures")).is_null(); }, 20s));
  CHECK(WaitFor([&] { return !(dropped = firing("VigilNotificationsDropped")).is_null(); }, 20s));
  INFO(failures.dump() << "\n" << dropped.dump());
  CHECK(failures["labels"]["rule_group"].get<std::string>().ends_with("broken.yml;broken"));
  CHECK(dropped["labels"]["alertmanager"] == "http://127.0.0.1:" + std::to_string(dead));
  // VigilNotificationsFailing waits 10 minutes; its expression already holds, and the group
  // timings are in the window for VigilRuleGroupSlow.
  for (std::string q :
       {"increase(vigil_notifications_errors_total[5m]) > 0",
        "vigil_rule_group_last_duration_seconds", "vigil_rule_group_interval_seconds == 1"}) {
    json r =
        GetJson("127.0.0.1", port, "/api/v1/query?query=" + httplib::detail::encode_query_param(q));
    INFO(q << " -> " << r.dump());
    CHECK((r.is_object() && !r["data"]["result"].empty()));
  }
  vigil.Signal(SIGTERM);
  CHECK(vigil.Wait(15s) == 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil
