// Rule files in the Prometheus format (groups / interval / limit / rules with record or
// alert, expr, for, keep_firing_for, labels, annotations), parsed with yaml-cpp and validated.
//
// Unknown keys and invalid values are errors naming "file:line:column". Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/base/status.h"

namespace vigil::rules {

struct RuleConfig {
  std::string record;  // exactly one of record and alert is set
  std::string alert;
  std::string expr;
  std::int64_t for_ms = 0;
  std::int64_t keep_firing_for_ms = 0;
  std::vector<std::pair<std::string, std::string>> labels;       // sorted by name
  std::vector<std::pair<std::string, std::string>> annotations;  // sorted by name
  int line = 0;  // 1-based position of the rule in its file
  int column = 0;
};

struct RuleGroupConfig {
  std::string name;
  std::int64_t interval_ms = 0;  // 0: use the global evaluation interval
  int limit = 0;                 // 0: no limit on alerts / series per rule
  std::vector<RuleConfig> rules;
  int line = 0;
  int column = 0;
};

struct RuleFileConfig {
  std::string path;
  std::vector<RuleGroupConfig> groups;
};

// Parses and validates the YAML text of a rule file; `path` only names it in errors.
Result<RuleFileConfig> ParseRuleFile(const std::string& content, const std::string& path);
// Reads and parses a rule file.
Result<RuleFileConfig> LoadRuleFile(const std::string& path);

}  // namespace vigil::rules
