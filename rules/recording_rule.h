// RecordingRule: evaluates an expression and stores the result under a new metric name with
// extra labels, as Prometheus' rules/recording.go. Not thread-safe (see rule.h).
#pragma once

#include <vector>

#include "rules/promql/ast.h"
#include "rules/rule.h"

namespace vigil::rules {

class RecordingRule final : public Rule {
 public:
  RecordingRule(std::string name, promql::ExprPtr expr, Labels labels)
      : name_(std::move(name)), expr_(std::move(expr)), labels_(std::move(labels)) {}

  const std::string& name() const override { return name_; }
  std::string Query() const override { return expr_->ToString(); }
  const Labels& labels() const { return labels_; }
  Result<promql::Vector> Eval(TimestampMs ts, const EvalContext& ctx) override;

 private:
  std::string name_;
  promql::ExprPtr expr_;
  Labels labels_;
};

}  // namespace vigil::rules
