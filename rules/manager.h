// RuleManager: the rule groups loaded from a list of rule files (globs allowed).
//
// Update() validates every file first; if any is bad it returns the error (naming
// file:line:column) and keeps the previous groups, so a bad reload never drops rules. Groups
// that survive a reload (same file and name) keep their alert state. EvalDue() is the rule
// scheduler: each group is evaluated at timestamps aligned to its interval (multiples of it,
// as Prometheus's are aligned to a fixed offset), at most once per timestamp, never before
// SetNotBefore's. Time is passed in; nothing here reads the clock. Not thread-safe: the agent
// (agent/app/rule_evaluator.h) serialises Update and dispatch, and evaluates each group due
// (DueAt) on a worker of its own, one evaluation of a group at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rules/group.h"

namespace vigil::rules {

class RuleManager {
 public:
  explicit RuleManager(GroupOptions options) : options_(std::move(options)) {}

  Status Update(const std::vector<std::string>& file_patterns);

  struct EvalResult {
    std::vector<AlertNotification> alerts;  // to send to Alertmanager
    std::size_t groups_evaluated = 0;
  };
  // Evaluates each group due at `now` (DueAt), one after another: the single-threaded form,
  // for callers without workers (the unit tests). The agent applies the same DueAt per group.
  EvalResult EvalDue(TimestampMs now, const promql::Querier& querier, const promql::Engine& engine,
                     Appender& out);
  // The timestamp at which `group` is due at `now`, if it is: `now` rounded down to a multiple
  // of its interval, unless the group has been evaluated at that timestamp already or it is
  // before the not-before time. The agent dispatches each due group to a worker with it
  // (agent/app/rule_evaluator.h).
  [[nodiscard]] std::optional<TimestampMs> DueAt(const Group& group, TimestampMs now) const;
  // Groups are not evaluated at timestamps before `t` (the agent sets it once every collector
  // has run, so that the first evaluation sees data).
  void SetNotBefore(TimestampMs t) { not_before_ = t; }
  TimestampMs not_before() const { return not_before_; }
  // The first aligned timestamp after `now` at which a group is due, at most `now` + 1 s.
  TimestampMs NextDue(TimestampMs now) const;
  // How far back any rule reads (promql::MaxReachMs over every rule), lookback not included.
  std::int64_t MaxReachMs() const;

  const std::vector<std::unique_ptr<Group>>& groups() const { return groups_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  GroupOptions options_;
  std::vector<std::string> files_;
  std::vector<std::unique_ptr<Group>> groups_;
  TimestampMs not_before_ = 0;
};

}  // namespace vigil::rules
