#include "agent/app/rule_evaluator.h"

#include <algorithm>

#include "agent/api/rules_api.h"
#include "agent/base/file.h"
#include "agent/base/log.h"
#include "agent/base/mutex.h"
#include "rules/alert_state.h"
#include "rules/alerting_rule.h"

namespace vigil {
namespace {

// The alert state file (a few hundred bytes per active alert).
constexpr std::size_t kMaxStateFileBytes = std::size_t{64} << 20;

// The window as the rules' appender: rule output is visible to the next rule at once.
class WindowAppender final : public rules::Appender {
 public:
  explicit WindowAppender(SeriesWindow* w) : w_(w) {}
  void Append(const Labels& labels, TimestampMs t, double v) override { w_->Append(labels, t, v); }

 private:
  SeriesWindow* w_;
};

}  // namespace

RuleEvaluator::RuleEvaluator(SeriesWindow* window, const promql::Engine* engine)
    : window_(window), engine_(engine) {}

Duration RuleEvaluator::RetentionFor(const rules::RuleManager& manager) {
  return Duration(manager.MaxReachMs() + 5 * 60 * 1000);
}

Status RuleEvaluator::Load(const RuleSettings& settings) {
  MutexLock lock(mu_);
  bool same_options = manager_ && settings.evaluation_interval == settings_.evaluation_interval &&
                      settings.resend_delay == settings_.resend_delay &&
                      settings.external_labels == settings_.external_labels &&
                      settings.external_url == settings_.external_url;
  std::unique_ptr<rules::RuleManager> fresh;
  rules::RuleManager* target = manager_.get();
  if (!same_options) {
    rules::GroupOptions options;
    options.default_interval_ms = settings.evaluation_interval.count();
    options.external_labels = settings.external_labels;
    options.external_url = settings.external_url;
    options.resend_delay_ms = settings.resend_delay.count();
    fresh = std::make_unique<rules::RuleManager>(options);
    fresh->SetNotBefore(not_before_);
    target = fresh.get();
  }
  if (Status s = target->Update(settings.files); !s.ok()) return s;
  if (fresh) manager_ = std::move(fresh);  // new options: alert state starts afresh
  settings_ = settings;
  if (!state_restored_) {
    state_restored_ = true;
    RestoreStateLocked();
  }
  Duration retention =
      std::clamp(RetentionFor(*manager_), Duration(15 * 60 * 1000), settings.max_retention);
  window_->SetRetention(retention);
  PublishMetricsLocked();
  ++generation_;
  std::size_t rules = 0;
  for (const auto& g : manager_->groups()) rules += g->rules().size();
  LogInfo("rules loaded", {{"groups", std::to_string(manager_->groups().size())},
                           {"rules", std::to_string(rules)},
                           {"window", std::to_string(retention.count() / 1000) + "s"}});
  return Status::Ok();
}

void RuleEvaluator::RestoreStateLocked() {
  if (settings_.state_file.empty()) return;
  Result<std::string> text = ReadFileBounded(settings_.state_file, kMaxStateFileBytes);
  if (text.status().code() == Status::Code::kNotFound) return;  // first start
  if (!text.ok()) {
    LogWarn("alert state not restored",
            {{"file", settings_.state_file}, {"err", text.status().message()}});
    return;
  }
  Result<rules::RestoreStats> r = rules::RestoreAlertState(
      *text, SystemClock::Get().Now(), settings_.outage_tolerance.count(), *manager_);
  if (!r.ok()) {
    LogWarn("alert state not restored",
            {{"file", settings_.state_file}, {"err", r.status().message()}});
    return;
  }
  LogInfo("alert state restored", {{"file", settings_.state_file},
                                   {"alerts", std::to_string(r->restored)},
                                   {"skipped", std::to_string(r->skipped)}});
}

void RuleEvaluator::SaveStateLocked(TimestampMs now) {
  if (settings_.state_file.empty() || !manager_) return;
  bool has_alerts = false;
  for (const auto& g : manager_->groups()) {
    for (const auto& r : g->rules()) {
      if (const auto* a = dynamic_cast<const rules::AlertingRule*>(r.get())) {
        if (!a->ActiveAlerts().empty()) has_alerts = true;
      }
    }
  }
  // While alerts are active every write refreshes saved_at (the downtime a restart measures);
  // with none, one write records that.
  if (!has_alerts && !state_had_alerts_) return;
  Status s = WriteFileAtomically(settings_.state_file, rules::EncodeAlertState(*manager_, now));
  if (!s.ok()) {
    if (s.message() != state_error_)
      LogError("cannot write the alert state", {{"err", s.message()}});
    state_error_ = s.message();
    return;
  }
  state_error_.clear();
  state_had_alerts_ = has_alerts;
}

void RuleEvaluator::SaveState(TimestampMs now) {
  MutexLock lock(mu_);
  state_had_alerts_ = true;  // always write at stop
  SaveStateLocked(now);
}

void RuleEvaluator::SetNotBefore(TimestampMs t) {
  MutexLock lock(mu_);
  not_before_ = t;
  if (manager_) manager_->SetNotBefore(t);
}

TimestampMs RuleEvaluator::NextDue(TimestampMs now) const {
  MutexLock lock(mu_);
  return manager_ ? manager_->NextDue(now) : now + 1000;
}

void RuleEvaluator::EvalDue(TimestampMs now, const SendFn& send) {
  rules::RuleManager::EvalResult result;
  {
    MutexLock lock(mu_);
    if (!manager_) return;
    WindowAppender appender(window_);
    result = manager_->EvalDue(now, *window_, *engine_, appender);
    if (result.groups_evaluated > 0) {
      generation_ += result.groups_evaluated;
      SaveStateLocked(now);
      PublishMetricsLocked();
    }
  }
  if (!result.alerts.empty()) send(std::move(result.alerts));
}

void RuleEvaluator::PublishMetricsLocked() {
  std::vector<GroupMetrics> out;
  for (const auto& g : manager_->groups()) {
    out.push_back({Labels{{"rule_group", g->file() + ";" + g->name()}}, g->stats(),
                   g->last_evaluation().value_or(0), static_cast<double>(g->rules().size()),
                   static_cast<double>(g->interval_ms()) / 1000.0});
  }
  MutexLock lock(metrics_mu_);
  metrics_ = std::move(out);
}

void RuleEvaluator::Collect(MetricSink& sink) const {
  MutexLock lock(metrics_mu_);
  for (const GroupMetrics& m : metrics_) {
    const Labels& l = m.labels;
    const rules::GroupStats& st = m.stats;
    sink.Gauge("vigil_rule_group_last_duration_seconds",
               "How long the last evaluation of the group took.", l, st.last_duration_seconds);
    sink.Gauge("vigil_rule_group_last_evaluation_timestamp_seconds",
               "When the group was last evaluated.", l,
               static_cast<double>(m.last_evaluation) / 1000.0);
    sink.Gauge("vigil_rule_group_rules", "Rules in the group.", l, m.rules);
    sink.Gauge("vigil_rule_group_interval_seconds", "The group's evaluation interval.", l,
               m.interval_seconds);
    sink.Counter("vigil_rule_group_evaluations_total", "Evaluations of the group.", l,
                 static_cast<double>(st.evaluations));
    sink.Counter("vigil_rule_evaluation_failures_total",
                 "Rule evaluations that failed (one per failing rule per group evaluation).", l,
                 static_cast<double>(st.failures));
  }
}

std::string RuleEvaluator::RulesJson() const {
  MutexLock lock(mu_);
  return manager_ ? vigil::RulesJson(*manager_) : vigil::RulesJson(rules::RuleManager({}));
}

std::string RuleEvaluator::AlertsJson() const {
  MutexLock lock(mu_);
  return manager_ ? vigil::AlertsJson(*manager_) : vigil::AlertsJson(rules::RuleManager({}));
}

}  // namespace vigil
