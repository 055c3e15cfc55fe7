#include "rules/promql/engine.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "rules/promql/functions.h"
#include "rules/promql/parser.h"

namespace vigil::promql {
namespace {

const Expr* UnwrapParens(const Expr* e) {
  while (e->kind == NodeKind::kParen) e = static_cast<const ParenExpr*>(e)->expr.get();
  return e;
}

// Labels taken from the equality matchers of absent()'s selector argument.
Labels AbsentLabels(const Expr* arg) {
  arg = UnwrapParens(arg);
  const VectorSelector* vs = nullptr;
  if (arg->kind == NodeKind::kVectorSelector) {
    vs = static_cast<const VectorSelector*>(arg);
  } else if (arg->kind == NodeKind::kMatrixSelector) {
    vs = static_cast<const MatrixSelector*>(arg)->selector.get();
  }
  Labels out;
  if (vs == nullptr) return out;
  std::vector<std::string> drop;
  for (const auto& m : vs->matchers) {
    if (m.name() == "__name__") continue;
    if (m.type() == LabelMatcher::Type::kEqual && !out.Has(m.name())) {
      out.Set(m.name(), m.value());
    } else {
      drop.push_back(m.name());
    }
  }
  for (const auto& n : drop) out.Remove(n);
  return out;
}

class Evaluator {
 public:
  // `start` and `end` are the query's (`@ start()`, `@ end()`): both `t` for an instant query.
  Evaluator(const Querier& querier, const EngineOptions& options, std::int64_t subquery_step_ms,
            const QueryContext& ctx, TimestampMs start, TimestampMs end)
      : querier_(querier),
        options_(options),
        ctx_(ctx),
        subquery_step_ms_(subquery_step_ms > 0 ? subquery_step_ms : 60 * 1000),
        start_(start),
        end_(end) {}

  // Loads what `e` reads when evaluated at every time in [start, end].
  Status Prefetch(const Expr& e, TimestampMs start, TimestampMs end) {
    switch (e.kind) {
      case NodeKind::kVectorSelector: {
        const auto& vs = static_cast<const VectorSelector&>(e);
        return Load(vs, RefTime(vs.mod, start) - options_.lookback_delta_ms, RefTime(vs.mod, end));
      }
      case NodeKind::kMatrixSelector: {
        const auto& ms = static_cast<const MatrixSelector&>(e);
        const auto& vs = *ms.selector;
        return Load(vs, RefTime(vs.mod, start) - ms.range_ms, RefTime(vs.mod, end));
      }
      case NodeKind::kSubquery: {
        const auto& sq = static_cast<const SubqueryExpr&>(e);
        const std::int64_t step = SubqueryStep(sq);
        return Prefetch(*sq.expr, AlignUp(RefTime(sq.mod, start) - sq.range_ms, step),
                        RefTime(sq.mod, end));
      }
      default:
        for (const Expr* child : Children(e)) {
          Status s = Prefetch(*child, start, end);
          if (!s.ok()) return s;
        }
        return Status::Ok();
    }
  }

  // Evaluates `e` at `ts`; on error returns an empty value and sets status().
  Value Eval(const Expr& e, TimestampMs ts) {
    if (!err_.ok()) return {};
    switch (e.kind) {
      case NodeKind::kNumber:
        return Value::Scalar(static_cast<const NumberLiteral&>(e).value, ts);
      case NodeKind::kString:
        return Value::String(static_cast<const StringLiteral&>(e).value, ts);
      case NodeKind::kParen:
        return Eval(*static_cast<const ParenExpr&>(e).expr, ts);
      case NodeKind::kVectorSelector:
        return Value::OfVector(SelectVector(static_cast<const VectorSelector&>(e), ts));
      case NodeKind::kMatrixSelector:
        return Value::OfMatrix(SelectMatrix(static_cast<const MatrixSelector&>(e), ts));
      case NodeKind::kSubquery:
        return Value::OfMatrix(EvalSubquery(static_cast<const SubqueryExpr&>(e), ts));
      case NodeKind::kUnary:
        return EvalUnary(static_cast<const UnaryExpr&>(e), ts);
      case NodeKind::kBinary:
        return EvalBinary(static_cast<const BinaryExpr&>(e), ts);
      case NodeKind::kCall:
        return EvalCall(static_cast<const Call&>(e), ts);
      case NodeKind::kAggregate:
        return EvalAggregate(static_cast<const AggregateExpr&>(e), ts);
    }
    return {};
  }

  const Status& status() const { return err_; }
  // Starts an evaluation step: checks the deadline and cancellation.
  void ResetStep() {
    samples_ = 0;
    if (Status s = ctx_.Check(); !s.ok() && err_.ok()) err_ = s;
  }
  void AddResultSamples(std::int64_t n) {
    result_samples_ += n;
    CheckSamples();
  }

 private:
  Status Load(const VectorSelector& vs, TimestampMs mint, TimestampMs maxt) {
    auto it = ranges_.find(&vs);
    if (it != ranges_.end()) return Status::Ok();
    SelectLimits limits{options_.max_samples - loaded_, &ctx_};
    auto res = querier_.Select(vs.matchers, mint, maxt, limits);
    if (!res.ok()) return res.status();
    for (const Series& s : *res) loaded_ += static_cast<std::int64_t>(s.points.size());
    // Prometheus sees series in label order; that decides ties in topk/bottomk and the order
    // NaN meets min/max. Storage usually returns them sorted already.
    auto by_labels = [](const Series& a, const Series& b) { return a.metric < b.metric; };
    if (!std::is_sorted(res->begin(), res->end(), by_labels)) {
      std::sort(res->begin(), res->end(), by_labels);
    }
    ranges_.emplace(&vs, std::move(*res));
    return Status::Ok();
  }

  void CheckSamples() {
    if (err_.ok() && samples_ + result_samples_ > options_.max_samples) {
      err_ = Status::ResourceExhausted(kTooManySamplesError);
    }
  }

  // The time a selector or subquery reads at when evaluated at `ts`: `ts`, or its `@` time,
  // less its offset.
  TimestampMs RefTime(const TimeModifiers& m, TimestampMs ts) const {
    switch (m.at) {
      case AtKind::kNone:
        break;
      case AtKind::kTimestamp:
        ts = m.at_ms;
        break;
      case AtKind::kStart:
        ts = start_;
        break;
      case AtKind::kEnd:
        ts = end_;
        break;
    }
    return ts - m.offset_ms;
  }

  std::int64_t SubqueryStep(const SubqueryExpr& sq) const {
    return sq.step_ms > 0 ? sq.step_ms : subquery_step_ms_;
  }

  // The first multiple of `step` at or after `t`, as Prometheus aligns subquery steps (Go's
  // truncating division, which C++ shares).
  static TimestampMs AlignUp(TimestampMs t, std::int64_t step) {
    TimestampMs aligned = step * (t / step);
    if (aligned < t) aligned += step;
    return aligned;
  }

  // `sq` at `ts`: its expression at every step-aligned time in [ref - range, ref]. The steps
  // computed for the previous evaluation time are reused (a range query's windows overlap).
  Matrix EvalSubquery(const SubqueryExpr& sq, TimestampMs ts) {
    const std::int64_t step = SubqueryStep(sq);
    const TimestampMs hi = RefTime(sq.mod, ts);
    const TimestampMs lo = AlignUp(hi - sq.range_ms, step);
    if (lo <= hi && (hi - lo) / step >= options_.max_samples) {
      err_ = Status::ResourceExhausted(kTooManySamplesError);
      return {};
    }
    std::deque<std::pair<TimestampMs, Vector>>& cached = subquery_steps_[&sq];
    std::deque<std::pair<TimestampMs, Vector>> steps;
    const std::int64_t before = samples_;
    std::int64_t points = 0;
    auto reuse = cached.begin();
    std::int64_t n = 0;
    for (TimestampMs t = lo; t <= hi; t += step) {
      if ((++n & 63) == 0) {
        if (Status st = ctx_.Check(); !st.ok()) {
          if (err_.ok()) err_ = st;
          return {};
        }
      }
      while (reuse != cached.end() && reuse->first < t) ++reuse;
      if (reuse != cached.end() && reuse->first == t) {
        steps.push_back(std::move(*reuse));
        ++reuse;
      } else {
        // What one step holds while it runs counts beside the points kept so far.
        samples_ = before + points;
        Value v = Eval(*sq.expr, t);
        if (!err_.ok()) return {};
        steps.emplace_back(t, std::move(v.vector));
      }
      points += static_cast<std::int64_t>(steps.back().second.size());
      samples_ = before + points;
      CheckSamples();
      if (!err_.ok()) return {};
      if (hi - t < step) break;  // the next step would pass `hi` (and might overflow)
    }
    cached = std::move(steps);
    std::map<Labels, std::vector<Point>> by_labels;
    for (const auto& [t, vec] : cached) {
      for (const Sample& s : vec) by_labels[s.metric].push_back(Point{t, s.v});
    }
    Matrix out;
    out.reserve(by_labels.size());
    for (auto& [labels, pts] : by_labels) out.push_back(Series{labels, std::move(pts)});
    return out;
  }

  Vector SelectVector(const VectorSelector& vs, TimestampMs ts) {
    Vector out;
    const TimestampMs ref = RefTime(vs.mod, ts);
    for (const auto& s : ranges_[&vs]) {
      auto it = std::upper_bound(s.points.begin(), s.points.end(), ref,
                                 [](TimestampMs t, const Point& p) { return t < p.t; });
      if (it == s.points.begin()) continue;
      const Point& p = *(it - 1);
      if (p.t < ref - options_.lookback_delta_ms || IsStaleNaN(p.v)) continue;
      out.push_back(Sample{s.metric, p.v, p.t});
    }
    samples_ += static_cast<std::int64_t>(out.size());
    CheckSamples();
    return out;
  }

  Matrix SelectMatrix(const MatrixSelector& ms, TimestampMs ts) {
    Matrix out;
    const TimestampMs maxt = RefTime(ms.selector->mod, ts);
    const TimestampMs mint = maxt - ms.range_ms;
    std::size_t n = 0;
    for (const auto& s : ranges_[ms.selector.get()]) {
      if (++n % 256 == 0) {
        if (Status st = ctx_.Check(); !st.ok()) {
          if (err_.ok()) err_ = st;
          return out;
        }
      }
      auto lo = std::lower_bound(s.points.begin(), s.points.end(), mint,
                                 [](const Point& p, TimestampMs t) { return p.t < t; });
      Series r{s.metric, {}};
      for (auto it = lo; it != s.points.end() && it->t <= maxt; ++it) {
        if (!IsStaleNaN(it->v)) r.points.push_back(*it);
      }
      samples_ += static_cast<std::int64_t>(r.points.size());
      if (!r.points.empty()) out.push_back(std::move(r));
    }
    CheckSamples();
    return out;
  }

  void CheckDuplicates(const Vector& v) {
    if (!err_.ok() || v.size() < 2) return;
    std::unordered_set<Labels, LabelsHash> seen;
    for (const auto& s : v) {
      if (!seen.insert(s.metric).second) {
        err_ = Status::InvalidArgument("vector cannot contain metrics with the same labelset");
        return;
      }
    }
  }

  Value EvalUnary(const UnaryExpr& u, TimestampMs ts) {
    Value v = Eval(*u.expr, ts);
    if (!err_.ok() || !u.negate) return v;
    if (v.type == ValueType::kScalar) {
      v.scalar = -v.scalar;
      return v;
    }
    for (auto& s : v.vector) {
      s.metric.Remove("__name__");
      s.v = -s.v;
      s.t = ts;
    }
    CheckDuplicates(v.vector);
    return v;
  }

  Value EvalBinary(const BinaryExpr& b, TimestampMs ts) {
    Value l = Eval(*b.lhs, ts);
    Value r = Eval(*b.rhs, ts);
    if (!err_.ok()) return {};
    if (l.type == ValueType::kScalar && r.type == ValueType::kScalar) {
      return Value::Scalar(ScalarBinop(b.op, l.scalar, r.scalar), ts);
    }
    Vector out;
    if (l.type == ValueType::kVector && r.type == ValueType::kVector) {
      Status s = VectorVectorBinop(b, l.vector, r.vector, &out);
      if (!s.ok()) {
        err_ = s;
        return {};
      }
    } else if (l.type == ValueType::kVector) {
      out = VectorScalarBinop(b.op, l.vector, r.scalar, false, b.return_bool);
    } else {
      out = VectorScalarBinop(b.op, r.vector, l.scalar, true, b.return_bool);
    }
    for (auto& s : out) s.t = ts;
    CheckDuplicates(out);
    return Value::OfVector(std::move(out));
  }

  Value EvalCall(const Call& c, TimestampMs ts) {
    const Func func = c.func->id;
    if (func == Func::kTime) return Value::Scalar(static_cast<double>(ts) / 1000, ts);
    if (func == Func::kPi) return Value::Scalar(M_PI, ts);
    if (func == Func::kTimestamp &&
        UnwrapParens(c.args[0].get())->kind == NodeKind::kVectorSelector) {
      // The samples' own times, not the evaluation time the selector stamps them with.
      Vector in =
          SelectVector(static_cast<const VectorSelector&>(*UnwrapParens(c.args[0].get())), ts);
      Vector out;
      for (const auto& s : in) {
        out.push_back(Sample{DropMetricName(s.metric), static_cast<double>(s.t) / 1000, ts});
      }
      CheckDuplicates(out);
      return Value::OfVector(std::move(out));
    }
    int matrix_arg = -1;
    for (std::size_t i = 0; i < c.func->arg_types.size(); ++i) {
      if (c.func->arg_types[i] == ValueType::kMatrix) matrix_arg = static_cast<int>(i);
    }
    if (matrix_arg >= 0) return EvalRangeCall(c, matrix_arg, ts);
    std::vector<Value> args;
    for (const auto& a : c.args) {
      args.push_back(Eval(*a, ts));
      if (!err_.ok()) return {};
    }
    if (func == Func::kScalar) {
      const Vector& v = args[0].vector;
      return Value::Scalar(v.size() == 1 ? v[0].v : std::numeric_limits<double>::quiet_NaN(), ts);
    }
    Vector out;
    if (func == Func::kAbsent) {
      if (args[0].vector.empty()) out.push_back(Sample{AbsentLabels(c.args[0].get()), 1, ts});
      return Value::OfVector(std::move(out));
    }
    Status s = CallVectorFunction(c, args, ts, &out);
    if (!s.ok()) {
      err_ = s;
      return {};
    }
    CheckDuplicates(out);
    return Value::OfVector(std::move(out));
  }

  Value EvalRangeCall(const Call& c, int matrix_arg, TimestampMs ts) {
    const Func func = c.func->id;
    std::vector<double> scalar_args;
    for (std::size_t i = 0; i < c.args.size(); ++i) {
      if (static_cast<int>(i) == matrix_arg) continue;
      Value v = Eval(*c.args[i], ts);
      if (!err_.ok()) return {};
      scalar_args.push_back(v.scalar);
    }
    const Expr* arg = UnwrapParens(c.args[matrix_arg].get());
    Matrix m;
    RangeContext ctx;
    ctx.ts = ts;
    if (arg->kind == NodeKind::kMatrixSelector) {
      const auto& ms = static_cast<const MatrixSelector&>(*arg);
      m = SelectMatrix(ms, ts);
      ctx.window_end = RefTime(ms.selector->mod, ts);
      ctx.range_ms = ms.range_ms;
    } else if (arg->kind == NodeKind::kSubquery) {
      const auto& sq = static_cast<const SubqueryExpr&>(*arg);
      m = EvalSubquery(sq, ts);
      ctx.window_end = RefTime(sq.mod, ts);
      ctx.range_ms = sq.range_ms;
    } else {
      err_ = Status::InvalidArgument("range vector argument must be a range selector or subquery");
      return {};
    }
    if (!err_.ok()) return {};
    Vector out;
    if (func == Func::kAbsentOverTime) {
      if (m.empty()) out.push_back(Sample{AbsentLabels(arg), 1, ts});
      return Value::OfVector(std::move(out));
    }
    if (!m.empty()) {
      if (Status s = CheckRangeFunctionArgs(func, scalar_args); !s.ok()) {
        err_ = s;
        return {};
      }
    }
    for (const auto& s : m) {
      auto v = CallRangeFunction(func, s.points, ctx, scalar_args);
      if (!v) continue;
      out.push_back(
          Sample{func == Func::kLastOverTime ? s.metric : DropMetricName(s.metric), *v, ts});
    }
    CheckDuplicates(out);
    return Value::OfVector(std::move(out));
  }

  Value EvalAggregate(const AggregateExpr& a, TimestampMs ts) {
    Value param;
    if (a.param) {
      param = Eval(*a.param, ts);
      if (!err_.ok()) return {};
    }
    Value in = Eval(*a.expr, ts);
    if (!err_.ok()) return {};
    Vector out;
    Status s = Aggregate(a, in.vector, a.param ? &param : nullptr, &out);
    if (!s.ok()) {
      err_ = s;
      return {};
    }
    for (auto& smp : out) smp.t = ts;
    return Value::OfVector(std::move(out));
  }

  const Querier& querier_;
  const EngineOptions& options_;
  const QueryContext& ctx_;
  std::int64_t loaded_ = 0;              // points loaded from storage
  const std::int64_t subquery_step_ms_;  // of subqueries written without a step
  const TimestampMs start_, end_;
  std::unordered_map<const VectorSelector*, std::vector<Series>> ranges_;
  // Per subquery, the steps of its last evaluation (time, result), oldest first.
  std::unordered_map<const SubqueryExpr*, std::deque<std::pair<TimestampMs, Vector>>>
      subquery_steps_;
  Status err_;
  std::int64_t samples_ = 0;
  std::int64_t result_samples_ = 0;
};

}  // namespace

Result<Value> Engine::Instant(const Querier& querier, const Expr& expr, TimestampMs t,
                              const QueryContext& ctx) const {
  Evaluator ev(querier, options_, subquery_step_ms_.load(std::memory_order_relaxed), ctx, t, t);
  Status s = ev.Prefetch(expr, t, t);
  if (!s.ok()) return s;
  ev.ResetStep();
  Value v = ev.Eval(expr, t);
  if (!ev.status().ok()) return ev.status();
  for (auto& smp : v.vector) smp.t = t;
  return v;
}

Result<Value> Engine::Range(const Querier& querier, const Expr& expr, TimestampMs start,
                            TimestampMs end, std::int64_t step_ms, const QueryContext& ctx) const {
  if (step_ms <= 0) return Status::InvalidArgument("zero or negative query resolution step");
  if (end < start) return Status::InvalidArgument("end timestamp must not be before start time");
  ValueType type = expr.Type();
  if (type != ValueType::kScalar && type != ValueType::kVector) {
    return Status::InvalidArgument(std::string("invalid expression type \"") + ValueTypeName(type) +
                                   "\" for range query, must be Scalar or instant Vector");
  }
  Evaluator ev(querier, options_, subquery_step_ms_.load(std::memory_order_relaxed), ctx, start,
               end);
  Status s = ev.Prefetch(expr, start, end);
  if (!s.ok()) return s;
  std::map<Labels, std::vector<Point>> series;
  for (TimestampMs ts = start;; ts += step_ms) {
    ev.ResetStep();
    Value v = ev.Eval(expr, ts);
    if (!ev.status().ok()) return ev.status();
    if (v.type == ValueType::kScalar) {
      series[Labels{}].push_back(Point{ts, v.scalar});
      ev.AddResultSamples(1);
    } else {
      for (auto& smp : v.vector) series[smp.metric].push_back(Point{ts, smp.v});
      ev.AddResultSamples(static_cast<std::int64_t>(v.vector.size()));
    }
    if (!ev.status().ok()) return ev.status();
    // The next step would pass `end` (written so that it cannot overflow).
    if (static_cast<std::uint64_t>(end) - static_cast<std::uint64_t>(ts) <
        static_cast<std::uint64_t>(step_ms)) {
      break;
    }
  }
  Matrix m;
  for (auto& [labels, points] : series) m.push_back(Series{labels, std::move(points)});
  return Value::OfMatrix(std::move(m));
}

Result<Value> Engine::InstantQuery(const Querier& querier, std::string_view query, TimestampMs t,
                                   const QueryContext& ctx) const {
  auto e = ParseExpr(query);
  if (!e.ok()) return e.status();
  return Instant(querier, **e, t, ctx);
}

Result<Value> Engine::RangeQuery(const Querier& querier, std::string_view query, TimestampMs start,
                                 TimestampMs end, std::int64_t step_ms,
                                 const QueryContext& ctx) const {
  auto e = ParseExpr(query);
  if (!e.ok()) return e.status();
  return Range(querier, **e, start, end, step_ms, ctx);
}

}  // namespace vigil::promql
