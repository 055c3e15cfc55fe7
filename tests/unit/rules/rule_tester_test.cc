#include "rules/rule_tester.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vigil::rules {
namespace {

const std::string kDir = std::string(VIGIL_TESTDATA_DIR) + "/promtool";

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("promtool-format tests pass with vigil's tester", "[rules][tester]") {
  auto r = RunRuleTestFile(kDir + "/alerts_test.yml");
  for (const auto& e : r.errors) UNSCOPED_INFO(e);
  CHECK(r.passed);
  CHECK(r.errors.empty());
}

TEST_CASE("Every form promtool accepts loads: YAML floats, series notation, subquery steps",
          "[rules][tester]") {
  // forms_test.yml: .inf/-.Inf/+.inf, 0x/0o/0b and underscores in exp_samples, stale and _x2 in
  // input series, [5m:] stepping by the file's 30s evaluation_interval (11 samples, not 6),
  // external_labels and external_url in templates.
  auto r = RunRuleTestFile(kDir + "/forms_test.yml");
  for (const auto& e : r.errors) UNSCOPED_INFO(e);
  CHECK(r.passed);
  CHECK(r.errors.empty());

  const std::string tmp = std::filesystem::temp_directory_path() / "vigil_float_test.yml";
  std::ofstream(tmp) << "rule_files: []\nevaluation_interval: 30s\ntests:\n  - interval: 15s\n"
                        "    input_series: [{series: x, values: 0+1x100}]\n"
                        "    promql_expr_test:\n"
                        "      - {expr: 'count_over_time(x[5m:])', eval_time: 10m,\n"
                        "         exp_samples: [{labels: '{}', value: 0x0c}]}\n"
                        "      - {expr: 'vector(1)', eval_time: 1m,\n"
                        "         exp_samples: [{labels: '{}', value: 0xzz}]}\n";
  auto bad = RunRuleTestFile(tmp);
  CHECK_FALSE(bad.passed);
  REQUIRE(bad.errors.size() == 2);
  CHECK(bad.errors[0].find("exp: {} 1.2E+01") != std::string::npos);
  CHECK(bad.errors[0].find("got: {} 1.1E+01") != std::string::npos);
  CHECK(bad.errors[1].find("bad value 0xzz") != std::string::npos);
  std::filesystem::remove(tmp);
}

TEST_CASE("Failures are reported exactly as promtool reports them", "[rules][tester]") {
  // failing_test.out is promtool 2.42's output (stdout and stderr) for failing_test.yml.
  const std::string file = kDir + "/failing/failing_test.yml";
  std::ostringstream out;
  int rc = RunRuleTests({file}, out, out);
  CHECK(rc == 1);
  std::string want = Read(kDir + "/failing/failing_test.out");
  const std::string header = "Unit Testing:  failing_test.yml";
  REQUIRE(want.rfind(header, 0) == 0);
  want.replace(0, header.size(), "Unit Testing:  " + file);
  CHECK(out.str() == want);
}

TEST_CASE("Tester reports bad test files", "[rules][tester]") {
  const std::string tmp = std::filesystem::temp_directory_path() / "vigil_bad_test.yml";
  std::ofstream(tmp) << "rule_files: []\ntests:\n  - interval: 1m\n    input_serie: []\n";
  auto r = RunRuleTestFile(tmp);
  CHECK_FALSE(r.passed);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].find(":4:5: field input_serie not found in test group") != std::string::npos);
  std::filesystem::remove(tmp);
}

}  // namespace
}  // namespace vigil::rules
