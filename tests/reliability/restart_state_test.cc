// vigil restarted while an alert is pending or firing: the state file (storage.path) brings
// back the pending timer (a `for: 10s` alert pending 6 s fires ~4 s after the restart, not
// 10 s) and the firing alert (still firing at once, same activeAt, so Alertmanager sees the
// same alert rather than a new page).
#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/reliability/harness.h"

namespace vigil::reliability {
namespace {

using nlohmann::json;

// The RedisDown alert as vigil's /api/v1/alerts shows it (null when absent).
json VigilAlert(const Vigil& v) {
  std::optional<std::string> body = v.Get("/api/v1/alerts");
  if (!body) return json();
  json j = json::parse(*body, nullptr, false);
  if (!j.is_object()) return json();
  for (const json& a : j["data"]["alerts"]) {
    if (a["labels"]["alertname"] == "RedisDown") return a;
  }
  return json();
}

TEST_CASE("A restart keeps pending timers and firing alerts", "[integration][reliability]") {
  TempDir dir("restart");
  Server am("alertmanager", dir.path / "am");
  int dead_port = testing::FreePort();  // nothing listens: Redis is down from the start
  WriteFile(dir.path / "rules.yml", R"(groups:
  - name: state
    interval: 1s
    rules:
      - alert: RedisDown
        expr: vigil_collector_up{collector="redis"} == 0
        for: 10s
)");
  WriteFile(dir.path / "vigil.yml",
            "global: {collect_interval: 1s, collect_timeout: 500ms, evaluation_interval: 1s}\n"
            "redis:\n  - {name: cache, address: \"127.0.0.1:" +
                std::to_string(dead_port) +
                "\"}\n"
                "rule_files: [rules.yml]\n"
                "storage: {path: state}\n"
                "alerting: {alertmanagers: [\"http://" +
                am.address() + "\"], resend_delay: 1s}\n");
  int port = testing::FreePort();
  auto vigil = std::make_unique<Vigil>(dir.path / "vigil.yml", dir.path / "vigil1.log", port);
  json pending;
  REQUIRE(WaitFor(
      [&] {
        pending = VigilAlert(*vigil);
        return !pending.is_null();
      },
      10s));
  REQUIRE(pending["state"] == "pending");
  std::string active_at = pending["activeAt"];
  auto pending_since = Clock::now();
  std::this_thread::sleep_for(6s);
  REQUIRE(VigilAlert(*vigil)["state"] == "pending");
  REQUIRE(fs::exists(dir.path / "state" / "alert-state.json"));

  // Clean restart (SIGTERM): the state file is written at the stop.
  vigil.reset();
  auto restarted = Clock::now();
  vigil = std::make_unique<Vigil>(dir.path / "vigil.yml", dir.path / "vigil2.log", port);
  json first;
  REQUIRE(WaitFor(
      [&] {
        first = VigilAlert(*vigil);
        return !first.is_null();
      },
      10s, 20ms));
  CHECK(first["state"] == "pending");
  double fired_after = -1;
  REQUIRE(WaitFor(
      [&] {
        if (VigilAlert(*vigil)["state"] == "firing") {
          fired_after = SecondsSince(restarted);
          return true;
        }
        return false;
      },
      15s, 50ms));
  std::printf("pending %.1fs before the restart; fired %.2fs after the restart\n",
              SecondsSince(pending_since) - fired_after, fired_after);
  std::fflush(stdout);
  // ~4 s left of the 10 s (plus the restart's own time and up to one evaluation interval).
  CHECK(fired_after >= 2.5);
  CHECK(fired_after <= 7.0);
  REQUIRE(WaitFor([&] { return AmAlertState(am.port(), "RedisDown") == "active"; }, 10s));
  json firing = VigilAlert(*vigil);
  std::string fired_active_at = firing["activeAt"];

  // Crash (SIGKILL) while firing: back firing at once, with the same activeAt.
  vigil->proc().Signal(SIGKILL);
  vigil->proc().Wait(5s);
  vigil.reset();
  restarted = Clock::now();
  vigil = std::make_unique<Vigil>(dir.path / "vigil.yml", dir.path / "vigil3.log", port);
  json again;
  REQUIRE(WaitFor(
      [&] {
        again = VigilAlert(*vigil);
        return !again.is_null();
      },
      10s, 20ms));
  std::printf("crashed while firing: %s again %.2fs after the restart\n",
              again["state"].get<std::string>().c_str(), SecondsSince(restarted));
  CHECK(again["state"] == "firing");
  CHECK(again["activeAt"] == fired_active_at);
  CHECK(AmAlertState(am.port(), "RedisDown") == "active");
  (void)active_at;
}

}  // namespace
}  // namespace vigil::reliability
