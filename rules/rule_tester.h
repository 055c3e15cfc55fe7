// RuleTester: runs rule unit tests in the `promtool test rules` file format (rule_files,
// evaluation_interval, group_eval_order, tests with interval, input_series, alert_rule_test,
// promql_expr_test, external_labels, external_url) and reports failures the way promtool
// 2.42 does. Everything runs in memory; time starts at the Unix epoch. Thread-compatible.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "rules/promql/engine.h"

namespace vigil::rules {

struct RuleTestFileResult {
  std::string file;
  bool passed = false;
  std::vector<std::string> errors;  // promtool-formatted failure messages
};

// Runs one test file. Paths in rule_files are relative to the test file's directory.
RuleTestFileResult RunRuleTestFile(const std::string& path,
                                   const promql::EngineOptions& engine_options = {});

// Runs test files one after another and prints exactly as promtool does: "Unit Testing:  FILE"
// and "  SUCCESS" on `out`; "  FAILED:" and each error on `err`, with a blank line on `out`
// after each error and after each file. Returns 0 when every file passed, 1 otherwise
// (promtool's exit code). Pass std::cout and std::cerr for promtool's exact output.
int RunRuleTests(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);

}  // namespace vigil::rules
