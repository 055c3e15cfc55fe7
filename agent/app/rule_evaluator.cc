#include "agent/app/rule_evaluator.h"

#include <algorithm>

#include "agent/api/rules_api.h"
#include "agent/base/file.h"
#include "agent/base/log.h"
#include "agent/base/mutex.h"
#include "agent/base/thread_name.h"
#include "rules/alert_state.h"
#include "rules/alerting_rule.h"

namespace vigil {
namespace {

// How long a reload waits for the groups in flight before it cancels their queries.
constexpr std::chrono::seconds kReloadPatience{1};

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
    : window_(window), engine_(engine) {
  for (int i = 0; i < kWorkers; ++i) workers_.emplace_back([this] { Work(); });
}

RuleEvaluator::~RuleEvaluator() { Stop(); }

void RuleEvaluator::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    cancel_in_flight_ = true;  // the queries in flight stop at their next check
  }
  cv_.NotifyAll();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
}

Duration RuleEvaluator::RetentionFor(const rules::RuleManager& manager) {
  return Duration(manager.MaxReachMs() + 5 * 60 * 1000);
}

std::shared_ptr<const RuleEvaluator::GroupView> RuleEvaluator::Render(const rules::Group& g) {
  auto view = std::make_shared<GroupView>();
  view->metrics = {Labels{{"rule_group", g.file() + ";" + g.name()}}, g.stats(),
                   g.last_evaluation().value_or(0), static_cast<double>(g.rules().size()),
                   static_cast<double>(g.interval_ms()) / 1000.0};
  view->api = RenderGroup(g);
  view->alert_state = rules::GroupAlertState(g);
  return view;
}

Status RuleEvaluator::Load(const RuleSettings& settings) {
  MutexLock lock(mu_);
  // The groups in flight finish first: their state carries over to the new groups.
  // A group still running after kReloadPatience is canceled rather than waited for (its query
  // may have most of --query.timeout to go): its rules fail at that one timestamp.
  loading_ = true;
  auto idle = [&]() REQUIRES(mu_) { return busy_ == 0; };
  if (!cv_.WaitFor(lock, kReloadPatience, idle)) {
    cancel_in_flight_ = true;
    cv_.Wait(lock, idle);
    cancel_in_flight_ = stopping_;
  }
  loading_ = false;
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
  views_.clear();
  for (const auto& g : manager_->groups()) views_.push_back(Render(*g));
  in_flight_.assign(manager_->groups().size(), false);
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

void RuleEvaluator::SaveStateFile(TimestampMs now, bool always) {
  std::string path;
  std::vector<std::shared_ptr<const GroupView>> views;
  {
    MutexLock lock(mu_);
    path = settings_.state_file;
    views = views_;
  }
  if (path.empty()) return;
  bool has_alerts = false;
  std::vector<const nlohmann::json*> states;
  for (const auto& v : views) {
    has_alerts = has_alerts || !v->alert_state.empty();
    states.push_back(&v->alert_state);
  }
  // While alerts are active every write refreshes saved_at (the downtime a restart measures);
  // with none, one write records that.
  if (!always && !has_alerts && !state_had_alerts_) return;
  Status s = WriteFileAtomically(path, rules::EncodeAlertState(states, now));
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
  MutexLock lock(state_file_mu_);
  SaveStateFile(now, /*always=*/true);
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
  {
    MutexLock lock(mu_);
    if (!manager_ || loading_ || stopping_) return;
    const auto& groups = manager_->groups();
    for (std::size_t i = 0; i < groups.size(); ++i) {
      if (in_flight_[i]) continue;  // still running: this timestamp is missed
      std::optional<TimestampMs> ts = manager_->DueAt(*groups[i], now);
      if (!ts) continue;
      in_flight_[i] = true;
      ++busy_;
      queue_.push_back(Task{groups[i].get(), i, *ts, now, send});
    }
  }
  cv_.NotifyAll();
}

void RuleEvaluator::WaitIdle() {
  MutexLock lock(mu_);
  cv_.Wait(lock, [&]() REQUIRES(mu_) { return busy_ == 0; });
}

void RuleEvaluator::Work() {
  SetCurrentThreadName("vigil-rules");
  MutexLock lock(mu_);
  for (;;) {
    cv_.Wait(lock, [&]() REQUIRES(mu_) { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and every queued group has run
    Task task = std::move(queue_.front());
    queue_.pop_front();
    lock.Unlock();
    Evaluate(std::move(task));
    lock.Lock();
  }
}

void RuleEvaluator::Evaluate(Task task) {
  // In flight: this worker alone touches the group until it clears the flag below, and the
  // manager stays (Load waits for every group in flight before it changes the groups).
  WindowAppender appender(window_);
  std::vector<AlertNotification> alerts =
      task.group->Eval(task.ts, *window_, *engine_, appender, &cancel_in_flight_);
  std::shared_ptr<const GroupView> view = Render(*task.group);
  // The state file changes only with a group that has alerts or had them.
  bool state_changed = !view->alert_state.empty();
  {
    MutexLock lock(mu_);
    state_changed = state_changed || !views_[task.index]->alert_state.empty();
    {
      MutexLock metrics_lock(metrics_mu_);
      metrics_[task.index] = view->metrics;
    }
    views_[task.index] = std::move(view);
    ++generation_;
  }
  if (state_changed) {
    MutexLock lock(state_file_mu_);
    SaveStateFile(task.now, /*always=*/false);
  }
  if (!alerts.empty()) task.send(std::move(alerts));
  {
    MutexLock lock(mu_);
    in_flight_[task.index] = false;
    --busy_;
  }
  cv_.NotifyAll();
}

void RuleEvaluator::PublishMetricsLocked() {
  std::vector<GroupMetrics> out;
  out.reserve(views_.size());
  for (const auto& v : views_) out.push_back(v->metrics);
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
    sink.Counter("vigil_rule_group_iterations_missed_total",
                 "Evaluation timestamps skipped because the group's previous evaluation was still "
                 "running.",
                 l, static_cast<double>(st.iterations_missed));
    sink.Counter("vigil_rule_evaluation_failures_total",
                 "Rule evaluations that failed (one per failing rule per group evaluation).", l,
                 static_cast<double>(st.failures));
  }
}

std::string RuleEvaluator::RulesJson() const {
  GroupViews views;
  {
    MutexLock lock(mu_);
    for (const auto& v : views_) views.emplace_back(v, &v->api);
  }
  return vigil::RulesJson(views);
}

std::string RuleEvaluator::AlertsJson() const {
  GroupViews views;
  {
    MutexLock lock(mu_);
    for (const auto& v : views_) views.emplace_back(v, &v->api);
  }
  return vigil::AlertsJson(views);
}

}  // namespace vigil
