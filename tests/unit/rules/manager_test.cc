#include "rules/manager.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "rules/promql/memory_storage.h"

namespace vigil::rules {
namespace {

class NullAppender final : public Appender {
 public:
  void Append(const Labels&, TimestampMs, double) override { ++count; }
  int count = 0;
};

TEST_CASE("A bad reload keeps the previous rules and their alert state", "[rules][manager]") {
  auto dir = std::filesystem::temp_directory_path() / "vigil_manager_test";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "a.yml").string();
  std::ofstream(file) << "groups:\n  - name: g\n    interval: 1m\n    rules:\n"
                         "      - alert: Down\n        expr: up == 0\n        for: 1m\n";
  RuleManager m(GroupOptions{});
  REQUIRE(m.Update({(dir / "*.yml").string()}).ok());
  REQUIRE(m.groups().size() == 1);

  promql::MemoryStorage st;
  st.Add(Labels{{"__name__", "up"}}, 0, 0);
  promql::Engine engine;
  NullAppender app;
  m.EvalDue(0, st, engine, app);
  CHECK(app.count == 2);              // ALERTS and ALERTS_FOR_STATE
  m.EvalDue(30000, st, engine, app);  // not due yet
  CHECK(app.count == 2);

  std::ofstream(file) << "groups:\n  - name: g\n    rules:\n      - alert: Down\n"
                         "        expr: up ==\n";
  Status s = m.Update({(dir / "*.yml").string()});
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().rfind(file + ":5:15:", 0) == 0);
  REQUIRE(m.groups().size() == 1);  // old rules kept

  std::ofstream(file) << "groups:\n  - name: g\n    interval: 1m\n    rules:\n"
                         "      - alert: Down\n        expr: up == 0\n        for: 1m\n"
                         "      - record: r\n        expr: up\n";
  REQUIRE(m.Update({(dir / "*.yml").string()}).ok());
  REQUIRE(m.groups()[0]->rules().size() == 2);
  auto sent = m.EvalDue(60000, st, engine, app).alerts;
  REQUIRE(sent.size() == 1);  // pending since 0 survived the reload and fires now
  CHECK(sent[0].starts_at == 60000);
  std::filesystem::remove_all(dir);
}

class TimeAppender final : public Appender {
 public:
  void Append(const Labels&, TimestampMs t, double) override { times.push_back(t); }
  std::vector<TimestampMs> times;
};

TEST_CASE("The scheduler evaluates each group at timestamps aligned to its interval",
          "[rules][manager]") {
  auto dir = std::filesystem::temp_directory_path() / "vigil_manager_schedule_test";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "a.yml").string();
  std::ofstream(file) << "groups:\n"
                         "  - name: fast\n    interval: 10s\n    rules:\n"
                         "      - record: r\n        expr: up\n"
                         "  - name: slow\n    interval: 1m\n    rules:\n"
                         "      - record: dup\n        expr: '{__name__=~\"up|down\"}'\n";
  RuleManager m(GroupOptions{});
  REQUIRE(m.Update({file}).ok());
  REQUIRE(m.groups().size() == 2);
  const Group& fast = *m.groups()[0];
  const Group& slow = *m.groups()[1];
  promql::MemoryStorage st;
  for (TimestampMs t = 0; t <= 300000; t += 5000) {
    st.Add(Labels{{"__name__", "up"}}, t, 1);
    st.Add(Labels{{"__name__", "down"}}, t, 0);
  }
  promql::Engine engine;
  TimeAppender app;

  m.SetNotBefore(20000);
  CHECK(m.EvalDue(12345, st, engine, app).groups_evaluated == 0);  // 10000 < not-before
  CHECK(m.NextDue(12345) == 13345);                                // capped at 1 s ahead
  RuleManager::EvalResult r = m.EvalDue(25000, st, engine, app);
  CHECK(r.groups_evaluated == 1);  // fast at 20000; slow's 0 is before not-before
  CHECK(fast.last_evaluation() == 20000);
  CHECK_FALSE(slow.last_evaluation().has_value());
  REQUIRE(app.times.size() == 1);
  CHECK(app.times[0] == 20000);

  CHECK(m.EvalDue(29999, st, engine, app).groups_evaluated == 0);  // 20000 again: done
  CHECK(m.EvalDue(60001, st, engine, app).groups_evaluated == 2);  // missed ticks not caught up
  CHECK(fast.last_evaluation() == 60000);
  CHECK(slow.last_evaluation() == 60000);
  CHECK(m.NextDue(60001) == 61001);

  // Stats: the slow group's one rule fails (two series, one label set once the name goes).
  CHECK(fast.stats().evaluations == 2);
  CHECK(fast.stats().failures == 0);
  CHECK(slow.stats().evaluations == 1);
  CHECK(slow.stats().failures == 1);
  CHECK(slow.stats().last_duration_seconds > 0);

  // A reload keeps each surviving group's stats and last evaluation.
  REQUIRE(m.Update({file}).ok());
  CHECK(m.groups()[0]->stats().evaluations == 2);
  CHECK(m.groups()[1]->stats().failures == 1);
  CHECK(m.EvalDue(65000, st, engine, app).groups_evaluated == 0);
  CHECK(m.MaxReachMs() == 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::rules
