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
  auto sent = m.EvalDue(60000, st, engine, app);
  REQUIRE(sent.size() == 1);  // pending since 0 survived the reload and fires now
  CHECK(sent[0].starts_at == 60000);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::rules
