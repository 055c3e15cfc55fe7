// Alert state across restarts: what EncodeAlertState writes, RestoreAlertState brings back
// into a fresh manager, so pending timers continue (minus the downtime) and firing alerts keep
// their start.
#include "rules/alert_state.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "rules/promql/memory_storage.h"

namespace vigil::rules {
namespace {

class NullAppender final : public Appender {
 public:
  void Append(const Labels&, TimestampMs, double) override {}
};

std::unique_ptr<RuleManager> Manager(const std::string& path) {
  auto m = std::make_unique<RuleManager>(GroupOptions{.default_interval_ms = 1000});
  REQUIRE(m->Update({path}).ok());
  return m;
}

const Alert* Find(const RuleManager& m, const std::string& rule_name) {
  static std::vector<Alert> keep;
  for (const auto& g : m.groups()) {
    for (const auto& r : g->rules()) {
      const auto* a = dynamic_cast<const AlertingRule*>(r.get());
      if (a && a->name() == rule_name && !a->ActiveAlerts().empty()) {
        keep = a->ActiveAlerts();
        return &keep[0];
      }
    }
  }
  return nullptr;
}

TEST_CASE("Alert state survives a restart: pending keeps its progress, firing its start",
          "[rules][alert_state]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("vigil-alert-state-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string rules = (dir / "rules.yml").string();
  std::ofstream(rules) << R"(groups:
  - name: g
    interval: 1s
    rules:
      - alert: Slow
        expr: m > 0
        for: 10s
      - alert: Fast
        expr: m > 0
        labels: {severity: page}
)";
  promql::MemoryStorage st;
  for (int i = 0; i <= 60; ++i) st.Add(Labels{{"__name__", "m"}, {"job", "a"}}, i * 1000, 1);
  promql::Engine engine;
  NullAppender out;

  auto before = Manager(rules);
  for (TimestampMs t = 1000; t <= 7000; t += 1000) before->EvalDue(t, st, engine, out);
  // Slow pending since 1 s (6 s of its 10 s), Fast firing since 1 s.
  REQUIRE(Find(*before, "Slow")->state == AlertState::kPending);
  REQUIRE(Find(*before, "Fast")->state == AlertState::kFiring);
  std::string saved = EncodeAlertState(*before, 7000);

  // Restarted 2 s later.
  auto after = Manager(rules);
  Result<RestoreStats> r = RestoreAlertState(saved, 9000, 3600000, *after);
  REQUIRE(r.ok());
  CHECK(r->restored == 2);
  CHECK(r->skipped == 0);
  const Alert* slow = Find(*after, "Slow");
  REQUIRE(slow);
  CHECK(slow->state == AlertState::kPending);
  CHECK(slow->active_at == 3000);  // 1 s + the 2 s down
  CHECK(slow->labels.Get("alertname") == "Slow");
  const Alert* fast = Find(*after, "Fast");
  REQUIRE(fast);
  CHECK(fast->state == AlertState::kFiring);
  CHECK(fast->fired_at == 1000);
  CHECK(fast->labels.Get("severity") == "page");

  // Evaluations continue: Slow fires at 13 s (4 s after the restart), not 19 s.
  // Fast is sent again at the first evaluation, with its original start.
  std::vector<AlertNotification> sent = after->EvalDue(12000, st, engine, out).alerts;
  CHECK(Find(*after, "Slow")->state == AlertState::kPending);
  after->EvalDue(13000, st, engine, out);
  CHECK(Find(*after, "Slow")->state == AlertState::kFiring);
  bool fast_resent_same_start = false;
  for (const auto& n : sent) {
    if (n.labels.Get("alertname") == "Fast" && n.starts_at == 1000) fast_resent_same_start = true;
  }
  CHECK(fast_resent_same_start);

  SECTION("a state file older than the outage tolerance is ignored") {
    auto m = Manager(rules);
    Result<RestoreStats> old = RestoreAlertState(saved, 7000 + 3600001, 3600000, *m);
    CHECK_FALSE(old.ok());
    CHECK(Find(*m, "Slow") == nullptr);
  }
  SECTION("a changed rule or a malformed file restores nothing") {
    std::ofstream(rules) << R"(groups:
  - name: g
    interval: 1s
    rules:
      - alert: Slow
        expr: m > 1
        for: 10s
)";
    auto m = Manager(rules);
    Result<RestoreStats> changed = RestoreAlertState(saved, 9000, 3600000, *m);
    REQUIRE(changed.ok());
    CHECK(changed->restored == 0);
    CHECK(changed->skipped == 2);
    CHECK_FALSE(RestoreAlertState("{\"version\":1", 9000, 3600000, *m).ok());
    CHECK_FALSE(RestoreAlertState("", 9000, 3600000, *m).ok());
    CHECK_FALSE(
        RestoreAlertState("{\"version\":1,\"saved_at\":1,\"alerts\":[{}]}", 9000, 3600000, *m)
            .ok());
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil::rules
