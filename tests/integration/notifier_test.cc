// The notifier against real Alertmanagers this test starts: delivery with annotations, an HA
// pair, and an Alertmanager down for a while and restarted losing nothing.
#include "agent/notifier/notifier.h"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/subprocess.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using testing::WaitFor;
using namespace std::chrono_literals;

const std::string kServers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";

struct OwnAlertmanager {
  fs::path dir;
  int port = 0;
  explicit OwnAlertmanager(const std::string& name)
      : dir(fs::temp_directory_path() / ("vigil-am-" + name + "-" + std::to_string(getpid()))) {
    fs::remove_all(dir);
    Start();
  }
  ~OwnAlertmanager() {
    Stop();
    fs::remove_all(dir);
  }
  void Start() {
    std::string env = port ? "VIGIL_PORT=" + std::to_string(port) + " " : "";
    auto [rc, out] = testing::RunCommand(env + kServers + " start alertmanager " + dir.string());
    if (rc != 0) FAIL("cannot start Alertmanager: " << out);
    port = std::stoi(out.substr(out.find_last_of('\n', out.size() - 2) + 1));
  }
  void Stop() { testing::RunCommand(kServers + " stop alertmanager " + dir.string()); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
  // Alert names Alertmanager currently holds, with their summary annotation.
  std::map<std::string, std::string> Alerts() const {
    httplib::Client c("127.0.0.1", port);
    auto res = c.Get("/api/v2/alerts");
    std::map<std::string, std::string> out;
    if (!res || res->status != 200) return out;
    for (const auto& a : nlohmann::json::parse(res->body)) {
      out[a["labels"]["alertname"].get<std::string>()] =
          a["annotations"].value("summary", std::string());
    }
    return out;
  }
};

AlertNotification Alert(const std::string& name, TimestampMs now) {
  return AlertNotification{Labels{{"alertname", name}, {"severity", "warning"}},
                           Labels{{"summary", name + " is firing"}},
                           now - 60'000,
                           now + 3'600'000,
                           false,
                           "http://127.0.0.1:9633/alerts"};
}

TEST_CASE(
    "Alerts reach both Alertmanagers of a pair, survive one being down, and keep "
    "external labels",
    "[integration][notifier]") {
  OwnAlertmanager a("a"), b("b");
  Notifier notifier({a.Url(), b.Url()}, Labels{{"env", "test"}});
  TimestampMs now = SystemClock::Get().Now();
  notifier.Send({Alert("HighLatency", now), Alert("LowCacheHitRate", now)});
  REQUIRE(WaitFor([&] { return a.Alerts().size() == 2 && b.Alerts().size() == 2; }, 10s));
  CHECK(a.Alerts()["HighLatency"] == "HighLatency is firing");

  // b goes down; alerts sent meanwhile wait in b's queue and arrive when it is back.
  b.Stop();
  notifier.Send({Alert("PoolExhausted", now), Alert("RedisDown", now)});
  REQUIRE(WaitFor([&] { return a.Alerts().size() == 4; }, 10s));
  std::this_thread::sleep_for(1500ms);  // at least one failed attempt at b
  CHECK(notifier.pending() == 2);
  b.Start();  // Alertmanager keeps alerts in memory only: the restarted b has the queued two
  REQUIRE(WaitFor(
      [&] {
        auto alerts = b.Alerts();
        return alerts.count("PoolExhausted") == 1 && alerts.count("RedisDown") == 1;
      },
      20s));
  CHECK(notifier.pending() == 0);

  MetricSink sink;
  notifier.Collect(sink);
  Snapshot s = sink.Take();
  double errors = 0, sent = 0;
  for (const MetricFamily& f : s) {
    for (const Sample& x : f.samples) {
      if (f.name == "vigil_notifications_errors_total" && x.labels.Get("alertmanager") == b.Url()) {
        errors = x.value;
      }
      if (f.name == "vigil_notifications_sent_total") sent += x.value;
    }
  }
  CHECK(errors >= 1);
  CHECK(sent == 8);
  // External labels were added.
  httplib::Client c("127.0.0.1", a.port);
  auto res = c.Get("/api/v2/alerts");
  REQUIRE(res);
  CHECK(res->body.find("\"env\":\"test\"") != std::string::npos);
}

TEST_CASE("A queued alert is replaced by its newer state, a full queue drops the oldest",
          "[notifier]") {
  // Nothing listens on this port: everything stays queued.
  int port = testing::FreePort();
  NotifierOptions options;
  options.queue_capacity = 3;
  Notifier notifier({"http://127.0.0.1:" + std::to_string(port)}, {}, options);
  TimestampMs now = SystemClock::Get().Now();
  notifier.Send({Alert("A", now), Alert("B", now)});
  AlertNotification resolved = Alert("A", now);
  resolved.ends_at = now;
  notifier.Send({resolved});
  CHECK(notifier.pending() == 2);
  notifier.Send({Alert("C", now), Alert("D", now)});
  CHECK(notifier.pending() == 3);
  MetricSink sink;
  notifier.Collect(sink);
  Snapshot s = sink.Take();
  for (const MetricFamily& f : s) {
    if (f.name == "vigil_notifications_dropped_total") CHECK(f.samples[0].value == 1);
  }
  std::string json = Notifier::BatchJson({resolved});
  CHECK(json.find("\"endsAt\":\"" + FormatRfc3339(now) + "\"") != std::string::npos);
  CHECK(FormatRfc3339(1'700'000'000'123) == "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace vigil
