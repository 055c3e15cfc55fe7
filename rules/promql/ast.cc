#include "rules/promql/ast.h"

#include <algorithm>
#include <cmath>
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

std::string OffsetString(const VectorSelector& vs) {
  if (vs.offset_ms == 0) return "";
  return " offset " + FormatDuration(Duration(vs.offset_ms));
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

std::string VectorSelector::ToString() const { return SelectorBody(*this) + OffsetString(*this); }

std::string MatrixSelector::ToString() const {
  return SelectorBody(*selector) + "[" + FormatDuration(Duration(range_ms)) + "]" +
         OffsetString(*selector);
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
    for (const char* n : {"rate", "increase", "irate", "delta", "idelta", "deriv", "changes",
                          "resets", "avg_over_time", "min_over_time", "max_over_time",
                          "sum_over_time", "count_over_time", "last_over_time", "stddev_over_time",
                          "stdvar_over_time", "present_over_time", "absent_over_time"}) {
      add({n, {VT::kMatrix}, 0, VT::kVector});
    }
    for (const char* n : {"abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "log10", "sort",
                          "sort_desc", "timestamp", "absent"}) {
      add({n, {VT::kVector}, 0, VT::kVector});
    }
    add({"predict_linear", {VT::kMatrix, VT::kScalar}, 0, VT::kVector});
    add({"quantile_over_time", {VT::kScalar, VT::kMatrix}, 0, VT::kVector});
    add({"time", {}, 0, VT::kScalar});
    add({"vector", {VT::kScalar}, 0, VT::kVector});
    add({"scalar", {VT::kVector}, 0, VT::kScalar});
    add({"histogram_quantile", {VT::kScalar, VT::kVector}, 0, VT::kVector});
    add({"round", {VT::kVector, VT::kScalar}, 1, VT::kVector});
    add({"clamp", {VT::kVector, VT::kScalar, VT::kScalar}, 0, VT::kVector});
    add({"clamp_min", {VT::kVector, VT::kScalar}, 0, VT::kVector});
    add({"clamp_max", {VT::kVector, VT::kScalar}, 0, VT::kVector});
    add({"label_replace",
         {VT::kVector, VT::kString, VT::kString, VT::kString, VT::kString},
         0,
         VT::kVector});
    add({"label_join", {VT::kVector, VT::kString, VT::kString, VT::kString}, -1, VT::kVector});
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
  if (e.kind == NodeKind::kVectorSelector) return static_cast<const VectorSelector&>(e).offset_ms;
  if (e.kind == NodeKind::kMatrixSelector) {
    const auto& m = static_cast<const MatrixSelector&>(e);
    return m.range_ms + (m.selector ? m.selector->offset_ms : 0);
  }
  std::int64_t reach = 0;
  for (const Expr* child : Children(e)) reach = std::max(reach, MaxReachMs(*child));
  return reach;
}

}  // namespace vigil::promql
