// Rule: the interface of recording and alerting rules, and what their evaluation needs.
//
// A rule is evaluated by its group at a time given by the caller (never the clock). Rules are
// not thread-safe: one group evaluates its rules from one thread; readers of health and alert
// state must synchronise with evaluation (the agent holds the group lock).
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "agent/base/clock.h"
#include "agent/base/labels.h"
#include "agent/base/status.h"
#include "rules/promql/engine.h"
#include "rules/promql/querier.h"

namespace vigil::rules {

struct EvalContext {
  const promql::Querier& querier;
  const promql::Engine& engine;
  Labels external_labels;
  std::string external_url;
  int limit = 0;  // the group's limit; 0 means none
  // Set: every query of the evaluation stops ("query was canceled") once it reads true (the
  // agent's stop and reload). Must outlive the evaluation.
  const std::atomic<bool>* cancelled = nullptr;
};

enum class RuleHealth { kUnknown, kGood, kBad };
const char* RuleHealthString(RuleHealth h);  // "unknown", "ok", "err" as Prometheus' API

class Rule {
 public:
  virtual ~Rule() = default;
  virtual const std::string& name() const = 0;
  virtual std::string Query() const = 0;  // the expression as PromQL text
  // Evaluates at `ts`; returns the samples to store (stamped `ts`).
  virtual Result<promql::Vector> Eval(TimestampMs ts, const EvalContext& ctx) = 0;

  RuleHealth health() const { return health_; }
  const std::string& last_error() const { return last_error_; }
  std::optional<TimestampMs> last_evaluation() const { return last_evaluation_; }
  std::int64_t last_duration_us() const { return last_duration_us_; }
  void SetHealth(RuleHealth h, std::string error) {
    health_ = h;
    last_error_ = std::move(error);
  }
  void SetEvaluation(TimestampMs ts, std::int64_t duration_us) {
    last_evaluation_ = ts;
    last_duration_us_ = duration_us;
  }

 private:
  RuleHealth health_ = RuleHealth::kUnknown;
  std::string last_error_;
  std::optional<TimestampMs> last_evaluation_;
  std::int64_t last_duration_us_ = 0;
};

// Runs a rule expression as an instant query under the engine's per-query budget (timeout and
// samples); scalars become a one-element vector without
// labels, other result types are errors.
Result<promql::Vector> QueryVector(const promql::Expr& expr, TimestampMs ts,
                                   const EvalContext& ctx);

}  // namespace vigil::rules
