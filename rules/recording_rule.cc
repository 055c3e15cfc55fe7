#include "rules/recording_rule.h"

#include <unordered_set>

namespace vigil::rules {

Result<promql::Vector> RecordingRule::Eval(TimestampMs ts, const EvalContext& ctx) {
  auto res = QueryVector(*expr_, ts, ctx);
  if (!res.ok()) return res.status();
  promql::Vector vec = std::move(*res);
  std::unordered_set<Labels, LabelsHash> seen;
  for (auto& s : vec) {
    s.metric.Set("__name__", name_);
    for (const auto& l : labels_) s.metric.Set(l.name, l.value);
    s.t = ts;
    if (!seen.insert(s.metric).second) {
      return Status::InvalidArgument(
          "vector contains metrics with the same labelset after applying rule labels");
    }
  }
  if (ctx.limit > 0 && static_cast<int>(vec.size()) > ctx.limit) {
    return Status::InvalidArgument("exceeded limit of " + std::to_string(ctx.limit) + " with " +
                                   std::to_string(vec.size()) + " series");
  }
  return vec;
}

}  // namespace vigil::rules
