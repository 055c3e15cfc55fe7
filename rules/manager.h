// RuleManager: the rule groups loaded from a list of rule files (globs allowed).
//
// Update() validates every file first; if any is bad it returns the error (naming
// file:line:column) and keeps the previous groups, so a bad reload never drops rules. Groups
// that survive a reload (same file and name) keep their alert state. EvalDue() evaluates the
// groups whose interval has passed since their last evaluation. Not thread-safe: the agent
// serialises Update, EvalDue and readers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rules/group.h"

namespace vigil::rules {

class RuleManager {
 public:
  explicit RuleManager(GroupOptions options) : options_(std::move(options)) {}

  Status Update(const std::vector<std::string>& file_patterns);

  // Evaluates each group due at `now` and returns the alerts to send.
  std::vector<AlertNotification> EvalDue(TimestampMs now, const promql::Querier& querier,
                                         const promql::Engine& engine, Appender& out);

  const std::vector<std::unique_ptr<Group>>& groups() const { return groups_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  GroupOptions options_;
  std::vector<std::string> files_;
  std::vector<std::unique_ptr<Group>> groups_;
};

}  // namespace vigil::rules
