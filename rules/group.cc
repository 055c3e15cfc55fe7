#include "rules/group.h"

#include <chrono>
#include <exception>

#include "agent/base/log.h"
#include "rules/promql/parser.h"
#include "rules/recording_rule.h"

namespace vigil::rules {

Group::Group(std::string file, const RuleGroupConfig& config, const GroupOptions& options,
             std::vector<std::unique_ptr<Rule>> rules)
    : file_(std::move(file)),
      name_(config.name),
      interval_ms_(config.interval_ms > 0 ? config.interval_ms : options.default_interval_ms),
      limit_(config.limit),
      options_(options),
      rules_(std::move(rules)),
      series_in_previous_eval_(rules_.size()) {}

Result<std::vector<std::unique_ptr<Group>>> Group::FromFile(const RuleFileConfig& file,
                                                            const GroupOptions& options) {
  std::vector<std::unique_ptr<Group>> out;
  for (const auto& gc : file.groups) {
    std::vector<std::unique_ptr<Rule>> rules;
    for (const auto& rc : gc.rules) {
      auto expr = promql::ParseExpr(rc.expr);
      if (!expr.ok()) {
        return expr.status().WithContext(file.path + ":" + std::to_string(rc.line) + ":" +
                                         std::to_string(rc.column));
      }
      Labels labels;
      for (const auto& [k, v] : rc.labels) labels.Set(k, v);
      if (!rc.record.empty()) {
        rules.push_back(
            std::make_unique<RecordingRule>(rc.record, std::move(*expr), std::move(labels)));
      } else {
        rules.push_back(std::make_unique<AlertingRule>(rc.alert, std::move(*expr), rc.for_ms,
                                                       rc.keep_firing_for_ms, std::move(labels),
                                                       rc.annotations));
      }
    }
    out.push_back(std::make_unique<Group>(file.path, gc, options, std::move(rules)));
  }
  return out;
}

std::vector<AlertNotification> Group::Eval(TimestampMs ts, const promql::Querier& querier,
                                           const promql::Engine& engine, Appender& out,
                                           const std::atomic<bool>* cancelled) {
  std::vector<AlertNotification> notifications;
  auto group_start = std::chrono::steady_clock::now();
  EvalContext ctx{querier, engine,   options_.external_labels, options_.external_url,
                  limit_,  cancelled};
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    Rule& rule = *rules_[i];
    auto start = std::chrono::steady_clock::now();
    Result<promql::Vector> res = Status::Internal("not evaluated");
    try {
      res = rule.Eval(ts, ctx);
    } catch (const std::exception& e) {  // one rule may fail, never the group or the agent
      res = Status::Internal(std::string("rule evaluation threw: ") + e.what());
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    rule.SetEvaluation(ts, us);
    if (!res.ok()) {
      rule.SetHealth(RuleHealth::kBad, res.status().message());
      LogWarn("rule evaluation failed",
              {{"group", name_}, {"rule", rule.name()}, {"err", res.status().message()}});
      continue;
    }
    rule.SetHealth(RuleHealth::kGood, "");
    if (auto* ar = dynamic_cast<AlertingRule*>(&rule)) {
      if (!ar->template_limit_error().empty()) {  // the alerts still go out, with the error text
        rule.SetHealth(RuleHealth::kBad, "template: " + ar->template_limit_error());
        LogWarn("rule template stopped at a bound",
                {{"group", name_}, {"rule", rule.name()}, {"err", ar->template_limit_error()}});
      }
      auto due = ar->AlertsToSend(ts, options_.resend_delay_ms, interval_ms_,
                                  options_.external_url + "/#alerts");
      notifications.insert(notifications.end(), due.begin(), due.end());
    }
    std::map<Labels, bool> returned;
    for (const auto& s : *res) {
      out.Append(s.metric, ts, s.v);
      returned.emplace(s.metric, true);
    }
    for (const auto& [labels, unused] : series_in_previous_eval_[i]) {
      if (!returned.count(labels)) out.Append(labels, ts, promql::StaleNaN());
    }
    series_in_previous_eval_[i] = std::move(returned);
  }
  if (last_evaluation_ && ts - *last_evaluation_ > interval_ms_) {
    stats_.iterations_missed +=
        static_cast<std::uint64_t>((ts - *last_evaluation_) / interval_ms_ - 1);
  }
  last_evaluation_ = ts;
  stats_.last_duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - group_start).count();
  ++stats_.evaluations;
  for (const auto& r : rules_) {
    if (r->health() == RuleHealth::kBad) ++stats_.failures;
  }
  return notifications;
}

void Group::CopyStateFrom(const Group& old) {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    for (std::size_t j = 0; j < old.rules_.size(); ++j) {
      if (rules_[i]->name() != old.rules_[j]->name() ||
          rules_[i]->Query() != old.rules_[j]->Query()) {
        continue;
      }
      auto* now = dynamic_cast<AlertingRule*>(rules_[i].get());
      auto* before = dynamic_cast<const AlertingRule*>(old.rules_[j].get());
      if (now && before) now->CopyStateFrom(*before);
      series_in_previous_eval_[i] = old.series_in_previous_eval_[j];
      break;
    }
  }
  last_evaluation_ = old.last_evaluation_;
  stats_ = old.stats_;
}

}  // namespace vigil::rules
