#include "rules/rule.h"

namespace vigil::rules {

const char* RuleHealthString(RuleHealth h) {
  switch (h) {
    case RuleHealth::kUnknown:
      return "unknown";
    case RuleHealth::kGood:
      return "ok";
    case RuleHealth::kBad:
      return "err";
  }
  return "unknown";
}

Result<promql::Vector> QueryVector(const promql::Expr& expr, TimestampMs ts,
                                   const EvalContext& ctx) {
  // Each rule gets the budget of one query: --query.timeout and --query.max-samples.
  auto v = ctx.engine.Instant(
      ctx.querier, expr, ts,
      promql::QueryContext::WithTimeout(ctx.engine.options().timeout, ctx.cancelled));
  if (!v.ok()) return v.status();
  if (v->type == promql::ValueType::kVector) return std::move(v->vector);
  if (v->type == promql::ValueType::kScalar) {
    return promql::Vector{promql::Sample{Labels{}, v->scalar, ts}};
  }
  return Status::InvalidArgument("rule result is not a vector or scalar");
}

}  // namespace vigil::rules
