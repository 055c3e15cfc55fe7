#include "agent/app/rule_evaluator.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "rules/promql/engine.h"
#include "tests/support/sanitizers.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("vigil_rule_evaluator_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

double Sample(const Snapshot& snapshot, const std::string& name) {
  for (const MetricFamily& f : snapshot) {
    if (f.name == name && !f.samples.empty()) return f.samples[0].value;
  }
  return -1;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A rule file in a temporary directory, and an evaluator over a fresh window that loaded it.
struct Loaded {
  TempDir dir;
  SeriesWindow window{Duration(3600 * 1000)};
  promql::Engine engine;
  RuleEvaluator ev{&window, &engine};
  RuleSettings settings;
  explicit Loaded(const std::string& rules_yaml, bool with_state_file,
                  promql::EngineOptions options = {})
      : engine(options) {
    const fs::path rules = dir.path / "rules.yml";
    std::ofstream(rules) << rules_yaml;
    settings.files = {rules.string()};
    settings.evaluation_interval = Duration(10000);
    if (with_state_file) settings.state_file = (dir.path / "alert-state.json").string();
  }
};

// The agent's evaluator end to end over a real window: scheduling, rule output written back,
// alerts handed over, the API bodies, the group series, the state file and a bad reload.
TEST_CASE("The rule evaluator runs the groups over the window and keeps state on a bad reload",
          "[rule_evaluator]") {
  Loaded l(
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - record: job:up:sum\n        expr: sum(up)\n"
      "      - alert: Down\n        expr: up == 0\n"
      "        labels: {severity: critical}\n"
      "        annotations: {summary: 'down since {{ $value }}'}\n",
      /*with_state_file=*/true);
  auto& [dir, window, engine, ev, settings] = l;
  const fs::path rules = settings.files[0];
  REQUIRE(ev.Load(settings).ok());
  CHECK(window.retention() == Duration(15 * 60 * 1000));  // the 15m floor

  const TimestampMs t0 = 1'700'000'000'000;  // a multiple of 10 s
  window.Append(Labels{{"__name__", "up"}, {"job", "a"}}, t0 - 1000, 0);
  ev.SetNotBefore(t0);
  std::vector<AlertNotification> sent;
  auto send = [&](std::vector<AlertNotification> n) {
    sent.insert(sent.end(), n.begin(), n.end());
  };
  ev.EvalDue(t0 - 5000, send);  // before not-before: nothing
  ev.WaitIdle();
  CHECK(sent.empty());
  CHECK(ev.NextDue(t0 + 3000) == t0 + 4000);
  ev.EvalDue(t0 + 3000, send);  // aligned to t0
  ev.WaitIdle();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].starts_at == t0);

  // The recording rule's output is in the window.
  Result<promql::LabelMatcher> name =
      promql::LabelMatcher::Make(promql::LabelMatcher::Type::kEqual, "__name__", "job:up:sum");
  REQUIRE(name.ok());
  auto r = window.Select({*name}, t0 - 1, t0 + 1);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);

  json rules_json = json::parse(ev.RulesJson());
  const json& rj = rules_json["data"]["groups"][0]["rules"];
  CHECK(rj[0]["type"] == "recording");
  CHECK(rj[1]["state"] == "firing");
  CHECK(rj[1]["alerts"][0]["annotations"]["summary"] == "down since 0");
  json alerts = json::parse(ev.AlertsJson());
  CHECK(alerts["data"]["alerts"].size() == 1);

  MetricSink sink;
  ev.Collect(sink);
  Snapshot metrics = sink.Take();
  CHECK(Sample(metrics, "vigil_rule_group_evaluations_total") == 1);
  CHECK(Sample(metrics, "vigil_rule_group_last_evaluation_timestamp_seconds") == t0 / 1000.0);
  CHECK(Sample(metrics, "vigil_rule_group_rules") == 2);
  CHECK(Sample(metrics, "vigil_rule_evaluation_failures_total") == 0);
  CHECK(ReadAll(settings.state_file).find("Down") != std::string::npos);

  // A bad file changes nothing: the alert keeps firing from the same start.
  std::ofstream(rules)
      << "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up ==\n";
  Status bad = ev.Load(settings);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.message().find(rules.string() + ":5:") == 0);
  sent.clear();
  ev.EvalDue(t0 + 10000, send);
  ev.WaitIdle();
  CHECK(sent.empty());  // firing, resent only after the resend delay (1m)
  json again = json::parse(ev.AlertsJson());
  REQUIRE(again["data"]["alerts"].size() == 1);
  CHECK(again["data"]["alerts"][0]["state"] == "firing");
}

// The state file is written for groups that have (or had) alerts: a group that never alerts
// costs no write per evaluation, and the stop writes it once.
TEST_CASE("Groups without alerts do not rewrite the state file", "[rule_evaluator]") {
  Loaded l(
      "groups:\n  - name: quiet\n    interval: 10s\n    rules:\n"
      "      - record: one\n        expr: vector(1)\n",
      /*with_state_file=*/true);
  auto& [dir, window, engine, ev, settings] = l;
  REQUIRE(ev.Load(settings).ok());
  const TimestampMs t0 = 1'700'000'000'000;
  ev.EvalDue(t0, [](std::vector<AlertNotification>) {});
  ev.WaitIdle();
  CHECK(ev.generation() == 2);  // the load and one evaluation
  CHECK_FALSE(fs::exists(settings.state_file));
  ev.SaveState(t0 + 1000);
  CHECK(json::parse(ReadAll(settings.state_file))["alerts"].empty());
}

// Groups run concurrently: a group that runs until its query deadline delays neither another
// group nor the API bodies and the group series.
TEST_CASE("A slow group delays neither another group nor the API", "[rule_evaluator]") {
  const auto timeout = std::chrono::milliseconds(static_cast<int>(3000 * testing::kTimeScale));
  // 86,400 x 86,400 subquery steps: the slow rule runs until the engine's timeout stops it.
  Loaded l(
      "groups:\n"
      "  - name: slow\n    interval: 1s\n    rules:\n"
      "      - record: slow:max\n"
      "        expr: max_over_time(max_over_time(vector(1)[1d:1s])[1d:1s])\n"
      "  - name: fast\n    interval: 1s\n    rules:\n"
      "      - record: fast:one\n        expr: vector(1)\n",
      /*with_state_file=*/false, promql::EngineOptions{.timeout = timeout});
  RuleEvaluator& ev = l.ev;
  const RuleSettings& settings = l.settings;
  REQUIRE(ev.Load(settings).ok());
  const TimestampMs t0 = 1'700'000'000'000;
  auto nothing = [](std::vector<AlertNotification>) {};
  auto group_of = [](const json& body, const std::string& name) {
    for (const json& g : body["data"]["groups"]) {
      if (g["name"] == name) return g;
    }
    return json();
  };
  const auto started = std::chrono::steady_clock::now();
  // Every second of dispatch, as the agent's loop does: the fast group runs each time.
  for (int i = 0; i < 3; ++i) {
    ev.EvalDue(t0 + i * 1000, nothing);
    for (int w = 0; w < 200; ++w) {
      json fast = group_of(json::parse(ev.RulesJson()), "fast");
      if (fast["lastEvaluation"] == FormatRfc3339(t0 + i * 1000)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // All of that while the slow group is still in its first evaluation.
  const auto elapsed = std::chrono::steady_clock::now() - started;
  INFO("dispatch took " << std::chrono::duration<double>(elapsed).count() << " s");
  REQUIRE(elapsed < timeout);
  json body = json::parse(ev.RulesJson());
  CHECK(group_of(body, "fast")["lastEvaluation"] == FormatRfc3339(t0 + 2000));
  CHECK(group_of(body, "slow")["lastEvaluation"] == "0001-01-01T00:00:00Z");
  MetricSink sink;
  ev.Collect(sink);  // the group series answer too
  CHECK(Sample(sink.Take(), "vigil_rule_group_rules") == 1);

  // A reload waits 1 s for the slow group, then cancels its query instead of waiting out the
  // deadline; the group's state carries over, the failure counted.
  REQUIRE(ev.Load(settings).ok());
  const auto reloaded = std::chrono::steady_clock::now() - started;
  INFO("reloaded after " << std::chrono::duration<double>(reloaded).count() << " s");
  CHECK(reloaded < timeout);
  CHECK(group_of(json::parse(ev.RulesJson()), "slow")["lastEvaluation"] == FormatRfc3339(t0));
  MetricSink after;
  ev.Collect(after);
  double slow_failures = -1;
  for (const MetricFamily& f : after.Take()) {
    if (f.name != "vigil_rule_evaluation_failures_total") continue;
    for (const auto& smp : f.samples) {
      if (smp.labels.Get("rule_group").find(";slow") != std::string::npos)
        slow_failures = smp.value;
    }
  }
  CHECK(slow_failures == 1);
  ev.Stop();
}

}  // namespace
}  // namespace vigil
