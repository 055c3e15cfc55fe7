// RuleEvaluator: runs the loaded rule groups over the series window, writes their output
// back into it, and hands alerts to the notifier: the agent's thread-safe shell around
// rules::RuleManager (which says when each group is due), with the alert state file and the
// vigil_rule_group_* series.
//
// Groups evaluate concurrently, as Prometheus's do: EvalDue hands each due group to a pool of
// kWorkers threads ("vigil-rules") and returns, so a slow group delays neither the others
// (while fewer than kWorkers are slow at once) nor the caller. A group runs once at a time; a
// group still running when it is due again skips that timestamp (iterations_missed).
// Ownership: a group in flight is touched only by its worker; otherwise only under mu_. The
// API bodies, the group series and the state file are rendered from each group's views, made
// by its worker after each evaluation, so readers never wait for an evaluation.
//
// Load() validates every rule file before anything changes: a bad file leaves the running
// rules as they were and returns the error (file:line:column). It waits for the groups in
// flight (their state carries over), canceling the queries of those still running after 1 s,
// never for collection; Stop cancels them at once. The window's retention follows the
// rules (largest range + offset + the 5m lookback, at least 15m, capped by `max_retention`).
// Thread-safe. Lock order: state_file_mu_, then mu_, then metrics_mu_.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/api/rules_api.h"
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
  static constexpr int kWorkers = 4;
  // REQUIRES: window and engine outlive the evaluator.
  RuleEvaluator(SeriesWindow* window, const promql::Engine* engine);
  ~RuleEvaluator();  // Stop()
  RuleEvaluator(const RuleEvaluator&) = delete;
  RuleEvaluator& operator=(const RuleEvaluator&) = delete;

  Status Load(const RuleSettings& settings) EXCLUDES(state_file_mu_, mu_);
  // Dispatches every group due at `now` (RuleManager::DueAt) that is not in flight to the
  // workers; alerts to send go to `send`, from the worker.
  void EvalDue(TimestampMs now, const SendFn& send) EXCLUDES(mu_);
  // Waits until no group is in flight (for tests: Stop waits too).
  void WaitIdle() EXCLUDES(mu_);
  // Lets the groups in flight finish and joins the workers; EvalDue does nothing afterwards.
  void Stop() EXCLUDES(mu_);
  // Groups are not evaluated at timestamps before `t` (the agent sets it once every collector
  // has run, so the first evaluation sees data and restored alerts are not dropped for lack
  // of it).
  void SetNotBefore(TimestampMs t) EXCLUDES(mu_);
  // Writes the alert state file now (at stop); no-op without one.
  void SaveState(TimestampMs now) EXCLUDES(state_file_mu_, mu_);
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
  struct GroupMetrics {
    Labels labels;
    rules::GroupStats stats;
    TimestampMs last_evaluation = 0;
    double rules = 0;
    double interval_seconds = 0;
  };
  // What readers see of one group, as of its last evaluation (or load).
  struct GroupView {
    GroupMetrics metrics;
    GroupApiView api;
    nlohmann::json alert_state;  // rules::GroupAlertState: its pending and firing alerts
  };
  struct Task {
    rules::Group* group = nullptr;  // of manager_
    std::size_t index = 0;          // in manager_->groups()
    TimestampMs ts = 0;             // the group's aligned evaluation time
    TimestampMs now = 0;            // when it was dispatched (the state file's saved_at)
    SendFn send;
  };
  static std::shared_ptr<const GroupView> Render(const rules::Group& g);
  void Work() EXCLUDES(mu_);
  void Evaluate(Task task) EXCLUDES(mu_);
  void SaveStateFile(TimestampMs now, bool always) REQUIRES(state_file_mu_) EXCLUDES(mu_);
  void RestoreStateLocked() REQUIRES(mu_);
  void PublishMetricsLocked() REQUIRES(mu_) EXCLUDES(metrics_mu_);

  SeriesWindow* window_;
  const promql::Engine* engine_;
  // Serialises writes of the state file (rendered under mu_, written outside it).
  Mutex state_file_mu_ ACQUIRED_BEFORE(mu_);
  bool state_had_alerts_ GUARDED_BY(state_file_mu_) = true;
  std::string state_error_ GUARDED_BY(state_file_mu_);  // the last write error logged
  mutable Mutex mu_;
  CondVar cv_;  // a task queued, a group done, or stopping
  std::unique_ptr<rules::RuleManager> manager_ GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const GroupView>> views_ GUARDED_BY(mu_);  // per group of manager_
  std::vector<bool> in_flight_ GUARDED_BY(mu_);                          // per group of manager_
  int busy_ GUARDED_BY(mu_) = 0;                                         // groups in flight
  std::deque<Task> queue_ GUARDED_BY(mu_);
  bool loading_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  RuleSettings settings_ GUARDED_BY(mu_);
  bool state_restored_ GUARDED_BY(mu_) = false;
  TimestampMs not_before_ GUARDED_BY(mu_) = 0;  // handed to each new manager
  std::atomic<std::uint64_t> generation_{0};
  // True while a reload or stop waits for the groups in flight: their queries stop.
  std::atomic<bool> cancel_in_flight_{false};
  std::vector<std::thread> workers_;

  // What Collect() renders, per group of manager_: all of it at each load, one group's entry
  // after its evaluation, so /metrics never waits for a reload's parse under mu_.
  mutable Mutex metrics_mu_ ACQUIRED_AFTER(mu_);  // taken after mu_, never before
  std::vector<GroupMetrics> metrics_ GUARDED_BY(metrics_mu_);
};

}  // namespace vigil
