#include "rules/promql/engine.h"

#include <algorithm>
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
  Evaluator(const Querier& querier, const EngineOptions& options, const QueryContext& ctx)
      : querier_(querier), options_(options), ctx_(ctx) {}

  Status Prefetch(const Expr& e, TimestampMs start, TimestampMs end) {
    switch (e.kind) {
      case NodeKind::kVectorSelector: {
        const auto& vs = static_cast<const VectorSelector&>(e);
        return Load(vs, start - vs.offset_ms - options_.lookback_delta_ms, end - vs.offset_ms);
      }
      case NodeKind::kMatrixSelector: {
        const auto& ms = static_cast<const MatrixSelector&>(e);
        const auto& vs = *ms.selector;
        return Load(vs, start - vs.offset_ms - ms.range_ms, end - vs.offset_ms);
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

  Vector SelectVector(const VectorSelector& vs, TimestampMs ts) {
    Vector out;
    const TimestampMs ref = ts - vs.offset_ms;
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
    const TimestampMs maxt = ts - ms.selector->offset_ms;
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
    const std::string name = c.func->name;
    if (name == "time") return Value::Scalar(static_cast<double>(ts) / 1000, ts);
    if (name == "timestamp" && c.args[0]->kind == NodeKind::kVectorSelector) {
      Vector in = SelectVector(static_cast<const VectorSelector&>(*c.args[0]), ts);
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
    if (name == "scalar") {
      const Vector& v = args[0].vector;
      return Value::Scalar(v.size() == 1 ? v[0].v : std::numeric_limits<double>::quiet_NaN(), ts);
    }
    Vector out;
    if (name == "absent") {
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
    const std::string name = c.func->name;
    double scalar_arg = 0;
    for (std::size_t i = 0; i < c.args.size(); ++i) {
      if (static_cast<int>(i) == matrix_arg) continue;
      Value v = Eval(*c.args[i], ts);
      if (!err_.ok()) return {};
      scalar_arg = v.scalar;
    }
    const Expr* arg = UnwrapParens(c.args[matrix_arg].get());
    if (arg->kind != NodeKind::kMatrixSelector) {
      err_ = Status::InvalidArgument("range vector argument must be a range selector");
      return {};
    }
    const auto& ms = static_cast<const MatrixSelector&>(*arg);
    Matrix m = SelectMatrix(ms, ts);
    if (!err_.ok()) return {};
    Vector out;
    if (name == "absent_over_time") {
      if (m.empty()) out.push_back(Sample{AbsentLabels(arg), 1, ts});
      return Value::OfVector(std::move(out));
    }
    RangeContext ctx{ts, ms.range_ms, ms.selector->offset_ms};
    for (const auto& s : m) {
      auto v = CallRangeFunction(name, s.points, ctx, scalar_arg);
      if (!v) continue;
      out.push_back(Sample{name == "last_over_time" ? s.metric : DropMetricName(s.metric), *v, ts});
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
  std::int64_t loaded_ = 0;  // points loaded from storage
  std::unordered_map<const VectorSelector*, std::vector<Series>> ranges_;
  Status err_;
  std::int64_t samples_ = 0;
  std::int64_t result_samples_ = 0;
};

}  // namespace

Result<Value> Engine::Instant(const Querier& querier, const Expr& expr, TimestampMs t,
                              const QueryContext& ctx) const {
  Evaluator ev(querier, options_, ctx);
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
  Evaluator ev(querier, options_, ctx);
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
