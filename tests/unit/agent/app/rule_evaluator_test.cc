#include "agent/app/rule_evaluator.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rules/promql/engine.h"

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

// The agent's evaluator end to end over a real window: scheduling, rule output written back,
// alerts handed over, the API bodies, the group series, the state file and a bad reload.
TEST_CASE("The rule evaluator runs the groups over the window and keeps state on a bad reload",
          "[rule_evaluator]") {
  TempDir dir;
  const fs::path rules = dir.path / "rules.yml";
  std::ofstream(rules) << "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
                          "      - record: job:up:sum\n        expr: sum(up)\n"
                          "      - alert: Down\n        expr: up == 0\n"
                          "        labels: {severity: critical}\n"
                          "        annotations: {summary: 'down since {{ $value }}'}\n";
  SeriesWindow window(Duration(3600 * 1000));
  promql::Engine engine;
  RuleEvaluator ev(&window, &engine);
  RuleSettings settings;
  settings.files = {rules.string()};
  settings.evaluation_interval = Duration(10000);
  settings.state_file = (dir.path / "alert-state.json").string();
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
  CHECK(sent.empty());
  CHECK(ev.NextDue(t0 + 3000) == t0 + 4000);
  ev.EvalDue(t0 + 3000, send);  // aligned to t0
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
  CHECK(sent.empty());  // firing, resent only after the resend delay (1m)
  json again = json::parse(ev.AlertsJson());
  REQUIRE(again["data"]["alerts"].size() == 1);
  CHECK(again["data"]["alerts"][0]["state"] == "firing");
}

}  // namespace
}  // namespace vigil
