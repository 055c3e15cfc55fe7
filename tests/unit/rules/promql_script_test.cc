// Runs every tests/testdata/promql/*.test script through the engine.
#include "tests/unit/rules/promql_script.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vigil::promql::testing {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("PromQL engine scripts pass", "[promql][script]") {
  std::filesystem::path dir = std::filesystem::path(VIGIL_TESTDATA_DIR) / "promql";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".test") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 5);
  int evals = 0;
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.filename().string()) {
      ScriptResult r = RunPromqlScript(ReadFile(f), f.filename().string());
      for (const auto& failure : r.failures) FAIL_CHECK(failure);
      CHECK(r.evals > 0);
      evals += r.evals;
    }
  }
}

TEST_CASE("Script runner reports wrong expectations", "[promql][script]") {
  ScriptResult r = RunPromqlScript(
      "load 1m\n  a{x=\"1\"} 1 2 3\n"
      "eval instant at 2m a\n  a{x=\"1\"} 4\n"
      "eval instant at 2m a\n  a{x=\"2\"} 3\n"
      "eval_fail instant at 2m a\n",
      "inline");
  REQUIRE(r.evals == 3);
  REQUIRE(r.failures.size() == 4);  // wrong value; missing + unexpected; no error
  CHECK(r.failures[0].find("inline:4:") == 0);
}

}  // namespace
}  // namespace vigil::promql::testing
