#include "rules/alerting_rule.h"

#include "rules/promql/parser.h"
#include "rules/template.h"

namespace vigil::rules {
namespace {

constexpr std::int64_t kResolvedRetentionMs = 15 * 60 * 1000;

}  // namespace

const char* AlertStateString(AlertState s) {
  switch (s) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "inactive";
}

AlertingRule::AlertingRule(std::string name, promql::ExprPtr expr, std::int64_t hold_ms,
                           std::int64_t keep_firing_for_ms, Labels labels,
                           std::vector<std::pair<std::string, std::string>> annotations)
    : name_(std::move(name)),
      expr_(std::move(expr)),
      hold_ms_(hold_ms),
      keep_firing_for_ms_(keep_firing_for_ms),
      labels_(std::move(labels)),
      annotations_(std::move(annotations)) {}

Result<promql::Vector> AlertingRule::Eval(TimestampMs ts, const EvalContext& ctx) {
  template_limit_error_.clear();
  auto res = QueryVector(*expr_, ts, ctx);
  if (!res.ok()) return res.status();
  TemplateQueryFunc query = [&](const std::string& q) -> Result<promql::Vector> {
    auto e = promql::ParseExpr(q);
    if (!e.ok()) return e.status();
    return QueryVector(**e, ts, ctx);
  };
  const std::string tmpl_name = "__alert_" + name_;
  auto expand = [&](const std::string& text, const TemplateData& data) {
    std::string limit_error;
    std::string out = ExpandAlertTemplate(tmpl_name, text, data, query, &limit_error);
    if (!limit_error.empty() && template_limit_error_.empty()) {
      template_limit_error_ = std::move(limit_error);
    }
    return out;
  };
  std::map<Labels, Alert> alerts;
  for (const auto& smpl : *res) {
    TemplateData data{smpl.metric, ctx.external_labels, ctx.external_url, smpl.v};
    Labels lbs = smpl.metric;
    lbs.Remove("__name__");
    for (const auto& l : labels_) {
      lbs.Set(l.name, expand(l.value, data));
    }
    lbs.Set("alertname", name_);
    Labels annotations;
    for (const auto& [k, v] : annotations_) {
      annotations.Set(k, expand(v, data));
    }
    if (alerts.count(lbs)) {
      return Status::InvalidArgument(
          "vector contains metrics with the same labelset after applying alert labels");
    }
    Alert a;
    a.labels = lbs;
    a.annotations = std::move(annotations);
    a.active_at = ts;
    a.state = AlertState::kPending;
    a.value = smpl.v;
    alerts.emplace(std::move(lbs), std::move(a));
  }
  for (auto& [lbs, a] : alerts) {
    auto it = active_.find(lbs);
    if (it != active_.end() && it->second.state != AlertState::kInactive) {
      it->second.value = a.value;
      it->second.annotations = a.annotations;
      continue;
    }
    active_[lbs] = std::move(a);
  }
  promql::Vector out;
  int num_active = 0;
  for (auto it = active_.begin(); it != active_.end();) {
    Alert& a = it->second;
    bool erase = false;
    if (!alerts.count(it->first)) {
      bool keep_firing = false;
      if (a.state == AlertState::kFiring && keep_firing_for_ms_ > 0) {
        if (!a.keep_firing_since) a.keep_firing_since = ts;
        if (ts - *a.keep_firing_since < keep_firing_for_ms_) keep_firing = true;
      }
      if (a.state == AlertState::kPending ||
          (a.resolved_at && ts - *a.resolved_at > kResolvedRetentionMs)) {
        erase = true;
      }
      if (a.state != AlertState::kInactive && !keep_firing) {
        a.state = AlertState::kInactive;
        a.resolved_at = ts;
      }
      if (!keep_firing) {
        it = erase ? active_.erase(it) : std::next(it);
        continue;
      }
    } else {
      a.keep_firing_since.reset();
    }
    ++num_active;
    if (a.state == AlertState::kPending && ts - a.active_at >= hold_ms_) {
      a.state = AlertState::kFiring;
      a.fired_at = ts;
    }
    Labels alerts_labels = a.labels;
    alerts_labels.Set("__name__", "ALERTS");
    alerts_labels.Set("alertstate", AlertStateString(a.state));
    out.push_back(promql::Sample{std::move(alerts_labels), 1, ts});
    Labels for_state = a.labels;
    for_state.Set("__name__", "ALERTS_FOR_STATE");
    out.push_back(
        promql::Sample{std::move(for_state), static_cast<double>(a.active_at / 1000), ts});
    if (erase) {
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  if (ctx.limit > 0 && num_active > ctx.limit) {
    active_.clear();
    return Status::InvalidArgument("exceeded limit of " + std::to_string(ctx.limit) + " with " +
                                   std::to_string(num_active) + " alerts");
  }
  return out;
}

bool AlertingRule::RestoreAlert(Alert alert) {
  if (alert.state == AlertState::kInactive) return false;
  Labels labels = alert.labels;
  labels.Set("alertname", name_);
  alert.labels = labels;
  return active_.emplace(std::move(labels), std::move(alert)).second;
}

std::vector<Alert> AlertingRule::ActiveAlerts() const {
  std::vector<Alert> out;
  for (const auto& [l, a] : active_) {
    if (a.state != AlertState::kInactive) out.push_back(a);
  }
  return out;
}

std::vector<AlertNotification> AlertingRule::AlertsToSend(TimestampMs ts,
                                                          std::int64_t resend_delay_ms,
                                                          std::int64_t interval_ms,
                                                          const std::string& generator_url) {
  std::vector<AlertNotification> out;
  for (auto& [l, a] : active_) {
    if (a.state == AlertState::kPending) continue;
    bool due = (a.resolved_at && (!a.last_sent_at || *a.resolved_at > *a.last_sent_at)) ||
               !a.last_sent_at || *a.last_sent_at + resend_delay_ms < ts;
    if (!due) continue;
    a.last_sent_at = ts;
    a.valid_until = ts + 4 * std::max(resend_delay_ms, interval_ms);
    AlertNotification n;
    n.labels = a.labels;
    n.annotations = a.annotations;
    n.starts_at = a.fired_at.value_or(a.active_at);
    n.resolved = a.resolved_at.has_value();
    n.ends_at = a.resolved_at ? *a.resolved_at : *a.valid_until;
    n.generator_url = generator_url;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace vigil::rules
