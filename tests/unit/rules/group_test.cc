#include "rules/group.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

#include "rules/promql/memory_storage.h"
#include "rules/promql/parser.h"
#include "rules/recording_rule.h"

namespace vigil::rules {
namespace {

class StorageAppender final : public Appender {
 public:
  explicit StorageAppender(promql::MemoryStorage* s) : s_(s) {}
  void Append(const Labels& labels, TimestampMs t, double v) override {
    s_->Add(labels, t, v);
    appended.push_back({labels, v, t});
  }
  std::vector<promql::Sample> appended;

 private:
  promql::MemoryStorage* s_;
};

std::unique_ptr<Group> OneGroup(const std::string& yaml, GroupOptions opts = {}) {
  auto f = ParseRuleFile(yaml, "test.yml");
  REQUIRE(f.ok());
  auto groups = Group::FromFile(*f, opts);
  REQUIRE(groups.ok());
  REQUIRE(groups->size() == 1);
  return std::move((*groups)[0]);
}

const promql::Sample* Find(const std::vector<promql::Sample>& v, const std::string& name,
                           TimestampMs t, const std::string& label = "",
                           const std::string& value = "") {
  for (const auto& s : v) {
    if (s.metric.Get("__name__") == name && s.t == t &&
        (label.empty() || s.metric.Get(label) == value)) {
      return &s;
    }
  }
  return nullptr;
}

constexpr TimestampMs kMin = 60000;

TEST_CASE("Alert goes inactive, pending, firing, resolved like Prometheus", "[rules][group]") {
  promql::MemoryStorage st;
  Labels up{{"__name__", "up"}, {"instance", "a"}, {"job", "node"}};
  // up: 1 at 0m, 0 from 1m to 4m, 1 from 5m.
  for (int i = 0; i <= 20; ++i) st.Add(up, i * kMin, (i >= 1 && i <= 4) ? 0 : 1);
  auto g = OneGroup(R"(groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 2m
        labels: {severity: page}
        annotations: {summary: '{{ $labels.instance }} is down ({{ $value }})'}
)",
                    GroupOptions{.external_url = "http://vigil.example:9633"});
  StorageAppender app(&st);
  promql::Engine engine;
  auto* rule = dynamic_cast<AlertingRule*>(g->rules()[0].get());
  REQUIRE(rule != nullptr);

  CHECK(g->Eval(0, st, engine, app).empty());
  CHECK(rule->ActiveAlerts().empty());
  CHECK(rule->health() == RuleHealth::kGood);

  CHECK(g->Eval(1 * kMin, st, engine, app).empty());  // pending alerts are not sent
  auto active = rule->ActiveAlerts();
  REQUIRE(active.size() == 1);
  CHECK(active[0].state == AlertState::kPending);
  CHECK(active[0].labels ==
        Labels{{"alertname", "Down"}, {"instance", "a"}, {"job", "node"}, {"severity", "page"}});
  CHECK(active[0].annotations.Get("summary") == "a is down (0)");
  const auto* pending = Find(app.appended, "ALERTS", kMin, "alertstate", "pending");
  REQUIRE(pending != nullptr);
  CHECK(pending->v == 1);
  const auto* for_state = Find(app.appended, "ALERTS_FOR_STATE", kMin);
  REQUIRE(for_state != nullptr);
  CHECK(for_state->v == 60);

  g->Eval(2 * kMin, st, engine, app);
  CHECK(rule->ActiveAlerts()[0].state == AlertState::kPending);

  auto sent = g->Eval(3 * kMin, st, engine, app);  // active for 2m: fires
  CHECK(rule->ActiveAlerts()[0].state == AlertState::kFiring);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].starts_at == 3 * kMin);
  CHECK(sent[0].ends_at == 3 * kMin + 4 * kMin);  // 4 x max(resend delay, interval)
  CHECK_FALSE(sent[0].resolved);
  CHECK(sent[0].generator_url == "http://vigil.example:9633/#alerts");
  CHECK(Find(app.appended, "ALERTS", 3 * kMin, "alertstate", "firing") != nullptr);
  // The pending ALERTS series went stale when the alert fired.
  const auto* stale = Find(app.appended, "ALERTS", 3 * kMin, "alertstate", "pending");
  REQUIRE(stale != nullptr);
  CHECK(promql::IsStaleNaN(stale->v));

  CHECK(g->Eval(4 * kMin, st, engine, app).empty());  // resent only after the resend delay
  CHECK(g->Eval(4 * kMin + 30000, st, engine, app).size() == 1);

  sent = g->Eval(5 * kMin, st, engine, app);  // up is 1 again: resolved, sent once
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].resolved);
  CHECK(sent[0].ends_at == 5 * kMin);
  CHECK(rule->ActiveAlerts().empty());
  CHECK(g->Eval(6 * kMin, st, engine, app).empty());
  // Resolved alerts are kept 15 minutes, then dropped (no more sends either way).
  CHECK(g->Eval(21 * kMin, st, engine, app).empty());
}

TEST_CASE("keep_firing_for keeps a resolved condition firing", "[rules][group]") {
  promql::MemoryStorage st;
  Labels m{{"__name__", "errors"}};
  for (int i = 0; i <= 10; ++i) st.Add(m, i * kMin, i <= 2 ? 1 : 0);
  auto g = OneGroup(R"(groups:
  - name: g
    rules:
      - alert: Errors
        expr: errors > 0
        keep_firing_for: 2m
)");
  StorageAppender app(&st);
  promql::Engine engine;
  auto* rule = dynamic_cast<AlertingRule*>(g->rules()[0].get());
  g->Eval(0, st, engine, app);
  CHECK(rule->ActiveAlerts()[0].state == AlertState::kFiring);  // for: 0 fires at once
  g->Eval(3 * kMin, st, engine, app);                           // condition gone, kept firing
  REQUIRE(rule->ActiveAlerts().size() == 1);
  CHECK(rule->ActiveAlerts()[0].state == AlertState::kFiring);
  g->Eval(4 * kMin, st, engine, app);
  CHECK(rule->ActiveAlerts()[0].state == AlertState::kFiring);
  g->Eval(5 * kMin, st, engine, app);  // 2m after the condition went away
  CHECK(rule->ActiveAlerts().empty());
}

TEST_CASE("A failing rule is unhealthy and the group goes on", "[rules][group]") {
  promql::MemoryStorage st;
  st.Add(Labels{{"__name__", "a"}, {"x", "1"}}, 0, 1);
  st.Add(Labels{{"__name__", "b"}, {"x", "1"}}, 0, 2);
  auto g = OneGroup(R"(groups:
  - name: g
    rules:
      - record: broken
        expr: '{__name__=~"a|b"} * 2'
      - record: doubled
        expr: a * 2
      - record: quadrupled
        expr: doubled * 2
)");
  StorageAppender app(&st);
  promql::Engine engine;
  g->Eval(0, st, engine, app);
  CHECK(g->rules()[0]->health() == RuleHealth::kBad);
  CHECK(g->rules()[0]->last_error().find("same labelset") != std::string::npos);
  CHECK(g->rules()[1]->health() == RuleHealth::kGood);
  // Later rules read the output of earlier ones in the same evaluation.
  const auto* q = Find(app.appended, "quadrupled", 0);
  REQUIRE(q != nullptr);
  CHECK(q->v == 4);
  CHECK(q->metric == Labels{{"__name__", "quadrupled"}, {"x", "1"}});
}

class ThrowingRule final : public Rule {
 public:
  const std::string& name() const override { return name_; }
  std::string Query() const override { return "vector(1)"; }
  Result<promql::Vector> Eval(TimestampMs, const EvalContext&) override {
    throw std::out_of_range("stoi");
  }

 private:
  std::string name_ = "throws";
};

TEST_CASE("A rule that throws fails alone", "[rules][group]") {
  promql::MemoryStorage st;
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(std::make_unique<ThrowingRule>());
  auto expr = promql::ParseExpr("vector(3)");
  REQUIRE(expr.ok());
  rules.push_back(std::make_unique<RecordingRule>("three", std::move(*expr), Labels{}));
  RuleGroupConfig config;
  config.name = "g";
  Group g("test.yml", config, GroupOptions{}, std::move(rules));
  StorageAppender app(&st);
  promql::Engine engine;
  g.Eval(0, st, engine, app);
  CHECK(g.rules()[0]->health() == RuleHealth::kBad);
  CHECK(g.rules()[0]->last_error() == "rule evaluation threw: stoi");
  CHECK(g.rules()[1]->health() == RuleHealth::kGood);
  const auto* three = Find(app.appended, "three", 0);
  REQUIRE(three != nullptr);
  CHECK(three->v == 3);
}

TEST_CASE("A template over its bound makes the rule unhealthy and the alert still fires",
          "[rules][group][template]") {
  promql::MemoryStorage st;
  st.Add(Labels{{"__name__", "up"}, {"instance", "a"}}, 0, 0);
  auto g = OneGroup(R"(groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        annotations:
          summary: '{{ $labels.instance }} is down'
          huge: '{{ range 100000000 }}x{{ end }}'
      - alert: Fine
        expr: up == 0
        annotations: {summary: 'ok'}
)");
  StorageAppender app(&st);
  promql::Engine engine;
  auto sent = g->Eval(0, st, engine, app);
  auto* down = dynamic_cast<AlertingRule*>(g->rules()[0].get());
  REQUIRE(down != nullptr);
  CHECK(down->health() == RuleHealth::kBad);
  CHECK(down->last_error().find("template: ") == 0);
  CHECK(g->rules()[1]->health() == RuleHealth::kGood);
  REQUIRE(down->ActiveAlerts().size() == 1);
  const Labels ann = down->ActiveAlerts()[0].annotations;
  CHECK(ann.Get("summary") == "a is down");
  CHECK(ann.Get("huge").rfind("<error expanding template: ", 0) == 0);
  CHECK(ann.Get("huge").size() < 1024);
  // The next clean evaluation clears the error.
  st.Add(Labels{{"__name__", "up"}, {"instance", "a"}}, kMin, 1);
  g->Eval(kMin, st, engine, app);
  CHECK(down->health() == RuleHealth::kGood);
}

TEST_CASE("Recorded series that vanish get a staleness marker", "[rules][group]") {
  promql::MemoryStorage st;
  st.Add(Labels{{"__name__", "a"}, {"x", "1"}}, 0, 1);
  st.Add(Labels{{"__name__", "a"}, {"x", "2"}}, 0, 1);
  st.Add(Labels{{"__name__", "a"}, {"x", "1"}}, 400000, 1);
  auto g = OneGroup(R"(groups:
  - name: g
    rules:
      - record: a:copy
        expr: a
        labels: {source: rule}
)");
  StorageAppender app(&st);
  promql::Engine engine;
  g->Eval(0, st, engine, app);
  CHECK(app.appended.size() == 2);
  g->Eval(400000, st, engine, app);  // x="2" is beyond the lookback now
  REQUIRE(app.appended.size() == 4);
  const auto* gone = Find(app.appended, "a:copy", 400000, "x", "2");
  REQUIRE(gone != nullptr);
  CHECK(promql::IsStaleNaN(gone->v));
  CHECK(gone->metric.Get("source") == "rule");
}

TEST_CASE("Timestamps a group ran past are counted as missed", "[rules][group]") {
  promql::MemoryStorage st;
  auto g = OneGroup(R"(groups:
  - name: g
    interval: 10s
    rules:
      - record: one
        expr: vector(1)
)");
  StorageAppender app(&st);
  promql::Engine engine;
  (void)g->Eval(0, st, engine, app);
  (void)g->Eval(10000, st, engine, app);
  CHECK(g->stats().iterations_missed == 0);
  (void)g->Eval(40000, st, engine, app);  // 20s and 30s were skipped
  CHECK(g->stats().iterations_missed == 2);
  CHECK(g->stats().evaluations == 3);
}

TEST_CASE("Group limit and alert label collisions are rule errors", "[rules][group]") {
  promql::MemoryStorage st;
  st.Add(Labels{{"__name__", "a"}, {"x", "1"}}, 0, 1);
  st.Add(Labels{{"__name__", "a"}, {"x", "2"}}, 0, 1);
  auto g = OneGroup(R"(groups:
  - name: g
    limit: 1
    rules:
      - record: r
        expr: a
      - alert: Collide
        expr: a
        labels: {x: same}
)");
  StorageAppender app(&st);
  promql::Engine engine;
  g->Eval(0, st, engine, app);
  CHECK(g->rules()[0]->last_error() == "exceeded limit of 1 with 2 series");
  CHECK(g->rules()[1]->last_error() ==
        "vector contains metrics with the same labelset after applying alert labels");
}

TEST_CASE("Reloaded groups keep alert state", "[rules][group]") {
  promql::MemoryStorage st;
  st.Add(Labels{{"__name__", "up"}}, 0, 0);
  const char* yaml = R"(groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 1m
)";
  auto g1 = OneGroup(yaml);
  StorageAppender app(&st);
  promql::Engine engine;
  g1->Eval(0, st, engine, app);
  auto g2 = OneGroup(yaml);
  g2->CopyStateFrom(*g1);
  g2->Eval(kMin, st, engine, app);
  auto* rule = dynamic_cast<AlertingRule*>(g2->rules()[0].get());
  REQUIRE(rule->ActiveAlerts().size() == 1);
  CHECK(rule->ActiveAlerts()[0].state == AlertState::kFiring);
  CHECK(rule->ActiveAlerts()[0].active_at == 0);
}

}  // namespace
}  // namespace vigil::rules
