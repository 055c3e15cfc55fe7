// Cross-checks the promtool-format fixtures with the real promtool 2.42 binary: passing files
// pass there too, and a failing file gives promtool the same report as vigil.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rules/rule_tester.h"
#include "tests/compat/prometheus_process.h"

namespace vigil::rules {
namespace {

const std::string kDir = std::string(VIGIL_TESTDATA_DIR) + "/promtool";

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("Fixtures behave the same under real promtool", "[rules][tester][promtool]") {
  const std::string log = std::filesystem::temp_directory_path() / "vigil_promtool_test.log";
  for (const std::string& file : {kDir + "/alerts_test.yml", kDir + "/forms_test.yml"}) {
    std::filesystem::remove(log);
    int rc = promql::testing::RunCommand({"promtool", "test", "rules", file}, log);
    INFO(Read(log));
    CHECK(rc == 0);
    std::ostringstream out;
    CHECK(RunRuleTests({file}, out, out) == 0);
    CHECK(out.str() == Read(log));
  }
  const std::string failing = kDir + "/failing/failing_test.yml";
  std::filesystem::remove(log);
  int rc = promql::testing::RunCommand({"promtool", "test", "rules", failing}, log);
  CHECK(rc == 1);
  std::ostringstream out;
  CHECK(RunRuleTests({failing}, out, out) == 1);
  CHECK(out.str() == Read(log));
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace vigil::rules
