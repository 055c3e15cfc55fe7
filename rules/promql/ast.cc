#include "rules/promql/ast.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "agent/base/duration.h"

namespace vigil::promql {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += v[i];
  }
  return out;
}

std::string SelectorBody(const VectorSelector& vs) {
  std::string out = vs.name;
  std::string inner;
  for (const auto& m : vs.matchers) {
    if (!vs.name.empty() && m.name() == "__name__" && m.type() == LabelMatcher::Type::kEqual &&
        m.value() == vs.name) {
      continue;
    }
    if (!inner.empty()) inner += ", ";
    inner += m.ToString();
  }
  if (!inner.empty() || vs.name.empty()) out += "{" + inner + "}";
  return out;
}

}  // namespace

std::string NumberLiteral::ToString() const {
  if (std::isnan(value)) return "NaN";
  // "Inf", not "+Inf": a leading "+" would parse back as a unary plus over whatever follows
  // (`3 ^ +Inf ^ 3` reads as `3 ^ +(Inf ^ 3)`, printed `3 ^ ++Inf ^ 3`), so the text would
  // change on every round trip (found by fuzzing).
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  return FormatValue(value);
}

std::string StringLiteral::ToString() const { return QuoteString(value); }

std::string TimeModifiers::ToString() const {
  std::string out;
  if (at == AtKind::kTimestamp) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), " @ %.3f", static_cast<double>(at_ms) / 1000.0);
    out = buf;
  } else if (at == AtKind::kStart) {
    out = " @ start()";
  } else if (at == AtKind::kEnd) {
    out = " @ end()";
  }
  if (offset_ms > 0) out += " offset " + FormatDuration(Duration(offset_ms));
  if (offset_ms < 0) out += " offset -" + FormatDuration(Duration(-offset_ms));
  return out;
}

std::string VectorSelector::ToString() const { return SelectorBody(*this) + mod.ToString(); }

std::string MatrixSelector::ToString() const {
  return SelectorBody(*selector) + "[" + FormatDuration(Duration(range_ms)) + "]" +
         selector->mod.ToString();
}

std::string SubqueryExpr::ToString() const {
  return expr->ToString() + "[" + FormatDuration(Duration(range_ms)) + ":" +
         (step_ms > 0 ? FormatDuration(Duration(step_ms)) : "") + "]" + mod.ToString();
}

const char* BinOpString(BinOp op) {
  switch (op) {
    case BinOp::kAdd:
      return "+";
    case BinOp::kSub:
      return "-";
    case BinOp::kMul:
      return "*";
    case BinOp::kDiv:
      return "/";
    case BinOp::kMod:
      return "%";
    case BinOp::kPow:
      return "^";
    case BinOp::kAtan2:
      return "atan2";
    case BinOp::kEql:
      return "==";
    case BinOp::kNeq:
      return "!=";
    case BinOp::kLss:
      return "<";
    case BinOp::kGtr:
      return ">";
    case BinOp::kLte:
      return "<=";
    case BinOp::kGte:
      return ">=";
    case BinOp::kAnd:
      return "and";
    case BinOp::kOr:
      return "or";
    case BinOp::kUnless:
      return "unless";
  }
  return "?";
}

bool IsComparison(BinOp op) { return op >= BinOp::kEql && op <= BinOp::kGte; }
bool IsSetOperator(BinOp op) { return op >= BinOp::kAnd; }

ValueType BinaryExpr::Type() const {
  if (lhs->Type() == ValueType::kScalar && rhs->Type() == ValueType::kScalar) {
    return ValueType::kScalar;
  }
  return ValueType::kVector;
}

std::string BinaryExpr::ToString() const {
  std::string m;
  if (matching.on || !matching.labels.empty()) {
    m = std::string(" ") + (matching.on ? "on" : "ignoring") + " (" + Join(matching.labels) + ")";
    if (matching.card == VectorMatching::Card::kManyToOne ||
        matching.card == VectorMatching::Card::kOneToMany) {
      m += std::string(" group_") +
           (matching.card == VectorMatching::Card::kManyToOne ? "left" : "right") + " (" +
           Join(matching.include) + ")";
    }
  }
  return lhs->ToString() + " " + BinOpString(op) + (return_bool ? " bool" : "") + m + " " +
         rhs->ToString();
}

std::string Call::ToString() const {
  std::string out = std::string(func->name) + "(";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i) out += ", ";
    out += args[i]->ToString();
  }
  return out + ")";
}

const char* AggOpString(AggOp op) {
  switch (op) {
    case AggOp::kSum:
      return "sum";
    case AggOp::kAvg:
      return "avg";
    case AggOp::kMin:
      return "min";
    case AggOp::kMax:
      return "max";
    case AggOp::kCount:
      return "count";
    case AggOp::kGroup:
      return "group";
    case AggOp::kTopK:
      return "topk";
    case AggOp::kBottomK:
      return "bottomk";
    case AggOp::kQuantile:
      return "quantile";
    case AggOp::kStddev:
      return "stddev";
    case AggOp::kStdvar:
      return "stdvar";
    case AggOp::kCountValues:
      return "count_values";
  }
  return "?";
}

std::string AggregateExpr::ToString() const {
  std::string out = AggOpString(op);
  if (without) {
    out += " without (" + Join(grouping) + ") ";
  } else if (!grouping.empty()) {
    out += " by (" + Join(grouping) + ") ";
  }
  out += "(";
  if (param) out += param->ToString() + ", ";
  return out + expr->ToString() + ")";
}

const FunctionDef* LookupFunction(const std::string& name) {
  using VT = ValueType;
  static const std::map<std::string, FunctionDef> kFunctions = [] {
    std::map<std::string, FunctionDef> m;
    auto add = [&](FunctionDef d) { m.emplace(d.name, std::move(d)); };
    const std::pair<const char*, Func> range_functions[] = {
        {"rate", Func::kRate},
        {"increase", Func::kIncrease},
        {"irate", Func::kIrate},
        {"delta", Func::kDelta},
        {"idelta", Func::kIdelta},
        {"deriv", Func::kDeriv},
        {"changes", Func::kChanges},
        {"resets", Func::kResets},
        {"avg_over_time", Func::kAvgOverTime},
        {"min_over_time", Func::kMinOverTime},
        {"max_over_time", Func::kMaxOverTime},
        {"sum_over_time", Func::kSumOverTime},
        {"count_over_time", Func::kCountOverTime},
        {"last_over_time", Func::kLastOverTime},
        {"stddev_over_time", Func::kStddevOverTime},
        {"stdvar_over_time", Func::kStdvarOverTime},
        {"present_over_time", Func::kPresentOverTime},
        {"absent_over_time", Func::kAbsentOverTime}};
    for (const auto& [n, id] : range_functions) add({n, id, {VT::kMatrix}, 0, VT::kVector});
    const std::pair<const char*, Func> vector_functions[] = {
        {"abs", Func::kAbs},
        {"ceil", Func::kCeil},
        {"floor", Func::kFloor},
        {"exp", Func::kExp},
        {"sqrt", Func::kSqrt},
        {"ln", Func::kLn},
        {"log2", Func::kLog2},
        {"log10", Func::kLog10},
        {"sort", Func::kSort},
        {"sort_desc", Func::kSortDesc},
        {"timestamp", Func::kTimestamp},
        {"absent", Func::kAbsent},
        {"sgn", Func::kSgn},
        {"acos", Func::kAcos},
        {"acosh", Func::kAcosh},
        {"asin", Func::kAsin},
        {"asinh", Func::kAsinh},
        {"atan", Func::kAtan},
        {"atanh", Func::kAtanh},
        {"cos", Func::kCos},
        {"cosh", Func::kCosh},
        {"sin", Func::kSin},
        {"sinh", Func::kSinh},
        {"tan", Func::kTan},
        {"tanh", Func::kTanh},
        {"deg", Func::kDeg},
        {"rad", Func::kRad},
        {"histogram_count", Func::kHistogramCount},
        {"histogram_sum", Func::kHistogramSum}};
    for (const auto& [n, id] : vector_functions) add({n, id, {VT::kVector}, 0, VT::kVector});
    // The date functions read the evaluation time when called without an argument.
    const std::pair<const char*, Func> date_functions[] = {{"day_of_month", Func::kDayOfMonth},
                                                           {"day_of_week", Func::kDayOfWeek},
                                                           {"day_of_year", Func::kDayOfYear},
                                                           {"days_in_month", Func::kDaysInMonth},
                                                           {"hour", Func::kHour},
                                                           {"minute", Func::kMinute},
                                                           {"month", Func::kMonth},
                                                           {"year", Func::kYear}};
    for (const auto& [n, id] : date_functions) add({n, id, {VT::kVector}, 1, VT::kVector});
    add({"predict_linear", Func::kPredictLinear, {VT::kMatrix, VT::kScalar}, 0, VT::kVector});
    add({"quantile_over_time",
         Func::kQuantileOverTime,
         {VT::kScalar, VT::kMatrix},
         0,
         VT::kVector});
    add({"holt_winters",
         Func::kHoltWinters,
         {VT::kMatrix, VT::kScalar, VT::kScalar},
         0,
         VT::kVector});
    add({"time", Func::kTime, {}, 0, VT::kScalar});
    add({"pi", Func::kPi, {}, 0, VT::kScalar});
    add({"vector", Func::kVector, {VT::kScalar}, 0, VT::kVector});
    add({"scalar", Func::kScalar, {VT::kVector}, 0, VT::kScalar});
    add({"histogram_quantile",
         Func::kHistogramQuantile,
         {VT::kScalar, VT::kVector},
         0,
         VT::kVector});
    add({"histogram_fraction",
         Func::kHistogramFraction,
         {VT::kScalar, VT::kScalar, VT::kVector},
         0,
         VT::kVector});
    add({"round", Func::kRound, {VT::kVector, VT::kScalar}, 1, VT::kVector});
    add({"clamp", Func::kClamp, {VT::kVector, VT::kScalar, VT::kScalar}, 0, VT::kVector});
    add({"clamp_min", Func::kClampMin, {VT::kVector, VT::kScalar}, 0, VT::kVector});
    add({"clamp_max", Func::kClampMax, {VT::kVector, VT::kScalar}, 0, VT::kVector});
    add({"label_replace",
         Func::kLabelReplace,
         {VT::kVector, VT::kString, VT::kString, VT::kString, VT::kString},
         0,
         VT::kVector});
    add({"label_join",
         Func::kLabelJoin,
         {VT::kVector, VT::kString, VT::kString, VT::kString},
         -1,
         VT::kVector});
    return m;
  }();
  auto it = kFunctions.find(name);
  return it == kFunctions.end() ? nullptr : &it->second;
}

std::vector<const Expr*> Children(const Expr& e) {
  std::vector<const Expr*> out;
  auto add = [&out](const Expr* child) {
    if (child) out.push_back(child);
  };
  switch (e.kind) {
    case NodeKind::kNumber:
    case NodeKind::kString:
    case NodeKind::kVectorSelector:
      break;
    case NodeKind::kMatrixSelector:
      add(static_cast<const MatrixSelector&>(e).selector.get());
      break;
    case NodeKind::kSubquery:
      add(static_cast<const SubqueryExpr&>(e).expr.get());
      break;
    case NodeKind::kParen:
      add(static_cast<const ParenExpr&>(e).expr.get());
      break;
    case NodeKind::kUnary:
      add(static_cast<const UnaryExpr&>(e).expr.get());
      break;
    case NodeKind::kBinary:
      add(static_cast<const BinaryExpr&>(e).lhs.get());
      add(static_cast<const BinaryExpr&>(e).rhs.get());
      break;
    case NodeKind::kCall:
      for (const ExprPtr& a : static_cast<const Call&>(e).args) add(a.get());
      break;
    case NodeKind::kAggregate:
      add(static_cast<const AggregateExpr&>(e).param.get());
      add(static_cast<const AggregateExpr&>(e).expr.get());
      break;
  }
  return out;
}

std::int64_t MaxReachMs(const Expr& e) {
  if (e.kind == NodeKind::kVectorSelector) {
    return static_cast<const VectorSelector&>(e).mod.offset_ms;
  }
  if (e.kind == NodeKind::kMatrixSelector) {
    const auto& m = static_cast<const MatrixSelector&>(e);
    return m.range_ms + (m.selector ? m.selector->mod.offset_ms : 0);
  }
  if (e.kind == NodeKind::kSubquery) {
    const auto& sq = static_cast<const SubqueryExpr&>(e);
    return sq.range_ms + sq.mod.offset_ms + (sq.expr ? MaxReachMs(*sq.expr) : 0);
  }
  std::int64_t reach = 0;
  for (const Expr* child : Children(e)) reach = std::max(reach, MaxReachMs(*child));
  return reach;
}

}  // namespace vigil::promql
