// Group: a named list of rules evaluated in order at one interval, as Prometheus'
// rules/group.go. Eval takes the evaluation time as a parameter and never reads the clock.
// A failing rule is marked unhealthy and the group goes on with the next one. Series a rule
// produced at the previous evaluation but not this one get a staleness marker.
// Not thread-safe: evaluate one group from one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "rules/alerting_rule.h"
#include "rules/appender.h"
#include "rules/rule.h"
#include "rules/rule_file.h"

namespace vigil::rules {

struct GroupOptions {
  std::int64_t default_interval_ms = 60000;  // used when the group sets none
  Labels external_labels;
  std::string external_url;
  std::int64_t resend_delay_ms = 60000;  // Prometheus' --rules.alert.resend-delay
};

// What the last evaluations of a group cost (vigil_rule_group_* series).
struct GroupStats {
  double last_duration_seconds = 0;
  std::uint64_t evaluations = 0;
  std::uint64_t failures = 0;  // one per failing rule per evaluation
  // Aligned timestamps skipped because the evaluation before ran past them (Prometheus's
  // prometheus_rule_group_iterations_missed_total).
  std::uint64_t iterations_missed = 0;
};

class Group {
 public:
  Group(std::string file, const RuleGroupConfig& config, const GroupOptions& options,
        std::vector<std::unique_ptr<Rule>> rules);

  // Builds the groups of a parsed rule file. Fails only on expressions that do not parse
  // (ParseRuleFile has already checked them).
  static Result<std::vector<std::unique_ptr<Group>>> FromFile(const RuleFileConfig& file,
                                                              const GroupOptions& options);

  // Evaluates every rule at `ts`. Samples go to `out`; returns the alerts due to be sent to
  // Alertmanager. `cancelled` (may be null) stops the queries still running once it is true.
  std::vector<AlertNotification> Eval(TimestampMs ts, const promql::Querier& querier,
                                      const promql::Engine& engine, Appender& out,
                                      const std::atomic<bool>* cancelled = nullptr);

  // Takes over alert state and staleness tracking from the group with the same file and name
  // before a reload, for rules with the same name and query, and the group's stats.
  void CopyStateFrom(const Group& old);

  const std::string& name() const { return name_; }
  const std::string& file() const { return file_; }
  std::int64_t interval_ms() const { return interval_ms_; }
  int limit() const { return limit_; }
  const std::vector<std::unique_ptr<Rule>>& rules() const { return rules_; }
  std::optional<TimestampMs> last_evaluation() const { return last_evaluation_; }
  const GroupStats& stats() const { return stats_; }

 private:
  std::string file_;
  std::string name_;
  std::int64_t interval_ms_;
  int limit_;
  GroupOptions options_;
  std::vector<std::unique_ptr<Rule>> rules_;
  std::vector<std::map<Labels, bool>> series_in_previous_eval_;  // per rule
  std::optional<TimestampMs> last_evaluation_;
  GroupStats stats_;
};

}  // namespace vigil::rules
