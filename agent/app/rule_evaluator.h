// RuleEvaluator: runs the loaded rule groups over the series window, writes their output
// back into it, and hands alerts to the notifier: the agent's thread-safe shell around
// rules::RuleManager (which schedules the groups), with the alert state file and the
// vigil_rule_group_* series.
//
// Load() validates every rule file before anything changes: a bad file leaves the running
// rules as they were and returns the error (file:line:column). The window's retention follows the
// rules (largest range + offset + the 5m lookback, at least 15m, capped by `max_retention`).
// Thread-safe: one mutex serialises loading, evaluation and the API readers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/base/metric.h"
#include "agent/base/mutex.h"
#include "agent/window/series_window.h"
#include "rules/manager.h"

namespace vigil {

struct RuleSettings {
  std::vector<std::string> files;  // globs, already resolved against the config's directory
  Duration evaluation_interval{15000};
  Duration resend_delay{60000};
  Labels external_labels;
  std::string external_url;
  Duration max_retention{3600000};
  // Where pending and firing alerts are kept across restarts (rules/alert_state.h); empty:
  // nowhere. Read once, at the first Load; written after each evaluation while alerts are
  // active (and once more when none are left), atomically (a temporary file renamed over).
  std::string state_file;
  Duration outage_tolerance{3600000};
};

class RuleEvaluator {
 public:
  using SendFn = std::function<void(std::vector<AlertNotification>)>;
  // REQUIRES: window and engine outlive the evaluator.
  RuleEvaluator(SeriesWindow* window, const promql::Engine* engine);

  Status Load(const RuleSettings& settings) EXCLUDES(mu_);
  // Evaluates every group due at `now` (RuleManager::EvalDue); alerts to send go to `send`.
  void EvalDue(TimestampMs now, const SendFn& send) EXCLUDES(mu_);
  // Groups are not evaluated at timestamps before `t` (the agent sets it once every collector
  // has run, so the first evaluation sees data and restored alerts are not dropped for lack
  // of it).
  void SetNotBefore(TimestampMs t) EXCLUDES(mu_);
  // Writes the alert state file now (at stop); no-op without one.
  void SaveState(TimestampMs now) EXCLUDES(mu_);
  // The next time a group is due (for the evaluation loop's sleep).
  TimestampMs NextDue(TimestampMs now) const EXCLUDES(mu_);

  // Prometheus's /api/v1/rules and /api/v1/alerts bodies.
  std::string RulesJson() const EXCLUDES(mu_);
  std::string AlertsJson() const EXCLUDES(mu_);
  // vigil_rule_group_* and vigil_rule_evaluation_failures_total.
  void Collect(MetricSink& sink) const EXCLUDES(metrics_mu_);
  std::uint64_t generation() const { return generation_.load(); }

  // Largest range + offset any rule reads, plus the 5m lookback.
  static Duration RetentionFor(const rules::RuleManager& manager);

 private:
  SeriesWindow* window_;
  const promql::Engine* engine_;
  mutable Mutex mu_;
  std::unique_ptr<rules::RuleManager> manager_ GUARDED_BY(mu_);
  RuleSettings settings_ GUARDED_BY(mu_);
  void SaveStateLocked(TimestampMs now) REQUIRES(mu_);
  void RestoreStateLocked() REQUIRES(mu_);
  bool state_restored_ GUARDED_BY(mu_) = false;
  bool state_had_alerts_ GUARDED_BY(mu_) = true;
  std::string state_error_ GUARDED_BY(mu_);     // the last write error logged
  TimestampMs not_before_ GUARDED_BY(mu_) = 0;  // handed to each new manager
  std::atomic<std::uint64_t> generation_{0};

  // What Collect() renders, published after each evaluation pass and load, so /metrics never
  // waits for an evaluation pass (which holds mu_ for as long as its groups take).
  struct GroupMetrics {
    Labels labels;
    rules::GroupStats stats;
    TimestampMs last_evaluation = 0;
    double rules = 0;
    double interval_seconds = 0;
  };
  void PublishMetricsLocked() REQUIRES(mu_) EXCLUDES(metrics_mu_);
  mutable Mutex metrics_mu_ ACQUIRED_AFTER(mu_);  // taken after mu_, never before
  std::vector<GroupMetrics> metrics_ GUARDED_BY(metrics_mu_);
};

}  // namespace vigil
