#include "rules/rule_file.h"

#include <catch2/catch.hpp>

namespace vigil::rules {
namespace {

std::string ErrorOf(const std::string& yaml) {
  auto r = ParseRuleFile(yaml, "r.yml");
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

TEST_CASE("Rule files load groups and rules", "[rules][rule_file]") {
  auto r = ParseRuleFile(R"(groups:
  - name: g1
    interval: 30s
    limit: 10
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {team: a}
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page}
        annotations: {summary: '{{ $labels.instance }} down'}
  - name: g2
    rules: []
)",
                         "r.yml");
  REQUIRE(r.ok());
  REQUIRE(r->groups.size() == 2);
  const auto& g = r->groups[0];
  CHECK(g.name == "g1");
  CHECK(g.interval_ms == 30000);
  CHECK(g.limit == 10);
  REQUIRE(g.rules.size() == 2);
  CHECK(g.rules[0].record == "job:up:sum");
  CHECK(g.rules[0].line == 6);
  CHECK(g.rules[1].alert == "Down");
  CHECK(g.rules[1].for_ms == 300000);
  CHECK(g.rules[1].keep_firing_for_ms == 60000);
  CHECK(g.rules[1].annotations[0].first == "summary");
  CHECK(r->groups[1].interval_ms == 0);
}

TEST_CASE("Unknown keys name file, line and column", "[rules][rule_file]") {
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                "        for: 1m\n        severty: page\n") ==
        "r.yml:7:9: field severty not found in rule");
  CHECK(ErrorOf("groups:\n  - name: g\n    intervall: 1m\n") ==
        "r.yml:3:5: field intervall not found in rule group");
  CHECK(ErrorOf("group:\n  - name: g\n") == "r.yml:1:1: field group not found in rule file");
}

TEST_CASE("Rule validation matches Prometheus", "[rules][rule_file]") {
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - record: a\n        alert: b\n"
                "        expr: up\n")
            .find("only one of 'record' and 'alert' must be set") != std::string::npos);
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - expr: up\n")
            .find("one of 'record' or 'alert' must be set") != std::string::npos);
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - record: a\n")
            .find("field 'expr' must be set") != std::string::npos);
  std::string parse = ErrorOf(
      "groups:\n  - name: g\n    rules:\n      - record: a\n"
      "        expr: sum(up\n");
  CHECK(parse.rfind("r.yml:5:15: group \"g\", rule 1: could not parse expression: 1:7:", 0) == 0);
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - record: 'bad name'\n        expr: up\n")
            .find("invalid recording rule name: bad name") != std::string::npos);
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n"
                "        for: 1m\n")
            .find("invalid field 'for' in recording rule") != std::string::npos);
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n"
                "        annotations: {a: b}\n")
            .find("invalid field 'annotations' in recording rule") != std::string::npos);
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n"
                "        labels: {__name__: x}\n")
            .find("invalid label name: __name__") != std::string::npos);
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n"
                "        for: 5x\n")
            .find("not a valid duration string") != std::string::npos);
  CHECK(ErrorOf("groups:\n  - name: g\n  - name: g\n").find("groupname: \"g\" is repeated") !=
        std::string::npos);
  CHECK(ErrorOf("groups:\n  - rules: []\n").find("Groupname must not be empty") !=
        std::string::npos);
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n"
                "        annotations: {s: '{{ if }}'}\n")
            .find("template") != std::string::npos);
  CHECK(ErrorOf("groups: [\n").rfind("r.yml:", 0) == 0);
  // Templates that could only fail or blow up when they run are refused when the file loads.
  const std::string bad_width = ErrorOf(
      "groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n"
      "        annotations: {s: '{{ printf \"%999999999d\" 1 }}'}\n");
  CHECK(bad_width.rfind("r.yml:4:", 0) == 0);
  CHECK(bad_width.find("width or precision over 4096") != std::string::npos);
  CHECK(ErrorOf("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n"
                "        labels: {s: '{{ humanise $value }}'}\n")
            .find("function \"humanise\" not defined") != std::string::npos);
}

TEST_CASE("Missing rule file is an error naming it", "[rules][rule_file]") {
  auto r = LoadRuleFile("/nonexistent/rules.yml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "open failed: /nonexistent/rules.yml");
}

TEST_CASE("An endless rule file is refused at its bound", "[rules][rule_file]") {
  auto r = LoadRuleFile("/dev/zero");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "/dev/zero: larger than 67108864 bytes");
}

}  // namespace
}  // namespace vigil::rules
