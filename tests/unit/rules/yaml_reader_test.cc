#include "rules/yaml_reader.h"

#include <catch2/catch.hpp>

namespace vigil::rules {
namespace {

TEST_CASE("Rule-file YAML errors name file, line and column as promtool does", "[rules][yaml]") {
  YamlReader r("rules.yml");
  YAML::Node doc = YAML::Load("groups:\n  - name: g\n    intervall: 1m\n    interval: soon\n");
  const YAML::Node group = doc["groups"][0];
  Status keys = r.CheckKeys(group, {"name", "interval", "rules"}, "rule group");
  REQUIRE_FALSE(keys.ok());
  CHECK(keys.message() == "rules.yml:3:5: field intervall not found in rule group");
  Status not_map = r.CheckKeys(group["name"], {"x"}, "rule group");
  CHECK(not_map.message() == "rules.yml:2:11: rule group must be a mapping");

  Result<std::int64_t> bad = r.DurationMs(group["interval"], "interval");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "rules.yml:4:15: interval: not a valid duration string: \"soon\"");
  Result<std::int64_t> list = r.DurationMs(doc["groups"]);
  REQUIRE_FALSE(list.ok());
  CHECK(list.status().message() == "rules.yml:2:3: duration must be a string");
  CHECK(*r.DurationMs(YAML::Load("1m30s")) == 90000);

  try {
    YAML::Load("groups: [\n");
    FAIL("yaml-cpp accepted an unclosed flow sequence");
  } catch (const YAML::Exception& e) {
    CHECK(r.Err(e).message().rfind("rules.yml:2:1: ", 0) == 0);
  }
}

}  // namespace
}  // namespace vigil::rules
