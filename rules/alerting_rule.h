// AlertingRule: an alert's lifecycle as Prometheus' rules/alerting.go (2.42): a new result
// element starts a pending alert, which fires once it has been active for `for`; an alert
// that stops matching resolves (after `keep_firing_for` if set) and is kept 15 minutes as
// resolved so it is sent as such. Emits ALERTS and ALERTS_FOR_STATE samples.
// Not thread-safe (see rule.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/alert_notification.h"
#include "rules/promql/ast.h"
#include "rules/rule.h"

namespace vigil::rules {

enum class AlertState { kInactive, kPending, kFiring };
const char* AlertStateString(AlertState s);  // "inactive", "pending", "firing"

struct Alert {
  Labels labels;  // the alert's identity, including alertname
  Labels annotations;
  AlertState state = AlertState::kInactive;
  double value = 0;
  TimestampMs active_at = 0;
  std::optional<TimestampMs> fired_at;
  std::optional<TimestampMs> resolved_at;
  std::optional<TimestampMs> last_sent_at;
  std::optional<TimestampMs> valid_until;
  std::optional<TimestampMs> keep_firing_since;
};

class AlertingRule final : public Rule {
 public:
  AlertingRule(std::string name, promql::ExprPtr expr, std::int64_t hold_ms,
               std::int64_t keep_firing_for_ms, Labels labels,
               std::vector<std::pair<std::string, std::string>> annotations);

  const std::string& name() const override { return name_; }
  std::string Query() const override { return expr_->ToString(); }
  Result<promql::Vector> Eval(TimestampMs ts, const EvalContext& ctx) override;

  // Active (pending, firing, or recently resolved) alerts, sorted by labels.
  std::vector<Alert> ActiveAlerts() const;
  // Marks alerts as sent and returns those due: firing ones every `resend_delay_ms` (and right
  // away when they fire), resolved ones once. `interval_ms` is the group interval; each
  // notification links back to `generator_url`.
  std::vector<AlertNotification> AlertsToSend(TimestampMs ts, std::int64_t resend_delay_ms,
                                              std::int64_t interval_ms,
                                              const std::string& generator_url);
  // Adds `alert` (pending or firing, from before a restart) unless an alert with its labels is
  // already active; true if added. The next Eval keeps it while its series is there.
  bool RestoreAlert(Alert alert);
  // Takes over the alert state of the same rule from before a reload.
  void CopyStateFrom(const AlertingRule& old) { active_ = old.active_; }
  // The first template bound (rules/template.h) the last Eval hit, or "": the alerts went out
  // with the error text in place of the value, and the group marks the rule unhealthy.
  const std::string& template_limit_error() const { return template_limit_error_; }

  std::int64_t hold_ms() const { return hold_ms_; }
  std::int64_t keep_firing_for_ms() const { return keep_firing_for_ms_; }
  const Labels& labels() const { return labels_; }
  const std::vector<std::pair<std::string, std::string>>& annotations() const {
    return annotations_;
  }

 private:
  std::string name_;
  promql::ExprPtr expr_;
  std::int64_t hold_ms_;
  std::int64_t keep_firing_for_ms_;
  Labels labels_;  // values are templates
  std::vector<std::pair<std::string, std::string>> annotations_;
  std::map<Labels, Alert> active_;
  std::string template_limit_error_;
};

}  // namespace vigil::rules
