// The PromQL abstract syntax tree.
//
// Every node keeps the byte range of the source text it was parsed from and prints back to
// valid PromQL with ToString(). Trees are immutable once parsed and may be evaluated from
// several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rules/promql/label_matcher.h"
#include "rules/promql/value.h"

namespace vigil::promql {

struct PosRange {
  int start = 0;  // byte offset of the first character
  int end = 0;    // byte offset one past the last character
};

enum class NodeKind {
  kNumber,
  kString,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kParen,
  kUnary,
  kBinary,
  kCall,
  kAggregate
};

struct Expr {
  explicit Expr(NodeKind k) : kind(k) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  virtual ValueType Type() const = 0;
  virtual std::string ToString() const = 0;

  const NodeKind kind;
  PosRange pos;
};
using ExprPtr = std::unique_ptr<Expr>;

struct NumberLiteral final : Expr {
  NumberLiteral() : Expr(NodeKind::kNumber) {}
  ValueType Type() const override { return ValueType::kScalar; }
  std::string ToString() const override;
  double value = 0;
};

struct StringLiteral final : Expr {
  StringLiteral() : Expr(NodeKind::kString) {}
  ValueType Type() const override { return ValueType::kString; }
  std::string ToString() const override;
  std::string value;
};

// The `@` modifier of a selector or subquery: evaluate at a fixed time, or at the start or end
// of the query (for an instant query both are its time), instead of at each step.
enum class AtKind { kNone, kTimestamp, kStart, kEnd };

// The offset and `@` modifiers of a selector or subquery.
struct TimeModifiers {
  std::int64_t offset_ms = 0;
  bool has_offset = false;
  AtKind at = AtKind::kNone;
  TimestampMs at_ms = 0;  // when at == kTimestamp
  // " @ 100.000 offset 5m" as Prometheus prints it ("" when neither is set).
  std::string ToString() const;
};

struct VectorSelector final : Expr {
  VectorSelector() : Expr(NodeKind::kVectorSelector) {}
  ValueType Type() const override { return ValueType::kVector; }
  std::string ToString() const override;
  std::string name;                    // metric name written before the braces, or ""
  std::vector<LabelMatcher> matchers;  // includes __name__="name" when `name` is set
  TimeModifiers mod;                   // a range selector's modifiers live here too
};

struct MatrixSelector final : Expr {
  MatrixSelector() : Expr(NodeKind::kMatrixSelector) {}
  ValueType Type() const override { return ValueType::kMatrix; }
  std::string ToString() const override;
  std::unique_ptr<VectorSelector> selector;
  std::int64_t range_ms = 0;
};

// `expr[range:step]`: `expr` evaluated every `step` (0: the engine's default step) at the
// step-aligned times of the range before each evaluation time.
struct SubqueryExpr final : Expr {
  SubqueryExpr() : Expr(NodeKind::kSubquery) {}
  ValueType Type() const override { return ValueType::kMatrix; }
  std::string ToString() const override;
  ExprPtr expr;
  std::int64_t range_ms = 0;
  std::int64_t step_ms = 0;
  TimeModifiers mod;
};

struct ParenExpr final : Expr {
  ParenExpr() : Expr(NodeKind::kParen) {}
  ValueType Type() const override { return expr->Type(); }
  std::string ToString() const override { return "(" + expr->ToString() + ")"; }
  ExprPtr expr;
};

struct UnaryExpr final : Expr {
  UnaryExpr() : Expr(NodeKind::kUnary) {}
  ValueType Type() const override { return expr->Type(); }
  std::string ToString() const override { return (negate ? "-" : "+") + expr->ToString(); }
  bool negate = true;
  ExprPtr expr;
};

enum class BinOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEql,
  kNeq,
  kLss,
  kGtr,
  kLte,
  kGte,
  kAnd,
  kOr,
  kUnless
};
const char* BinOpString(BinOp op);
bool IsComparison(BinOp op);
bool IsSetOperator(BinOp op);

struct VectorMatching {
  enum class Card { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
  Card card = Card::kOneToOne;
  bool on = false;                   // on(...) rather than ignoring(...)
  std::vector<std::string> labels;   // the on/ignoring label names
  std::vector<std::string> include;  // group_left/group_right label names
};

struct BinaryExpr final : Expr {
  BinaryExpr() : Expr(NodeKind::kBinary) {}
  ValueType Type() const override;
  std::string ToString() const override;
  BinOp op = BinOp::kAdd;
  ExprPtr lhs, rhs;
  bool return_bool = false;
  VectorMatching matching;  // meaningful when both sides are instant vectors
};

// Every function of Prometheus 2.42's function table.
enum class Func {
  kAbs,
  kAbsent,
  kAbsentOverTime,
  kAcos,
  kAcosh,
  kAsin,
  kAsinh,
  kAtan,
  kAtanh,
  kAvgOverTime,
  kCeil,
  kChanges,
  kClamp,
  kClampMax,
  kClampMin,
  kCos,
  kCosh,
  kCountOverTime,
  kDaysInMonth,
  kDayOfMonth,
  kDayOfWeek,
  kDayOfYear,
  kDeg,
  kDelta,
  kDeriv,
  kExp,
  kFloor,
  kHistogramCount,
  kHistogramSum,
  kHistogramFraction,
  kHistogramQuantile,
  kHoltWinters,
  kHour,
  kIdelta,
  kIncrease,
  kIrate,
  kLabelReplace,
  kLabelJoin,
  kLastOverTime,
  kLn,
  kLog10,
  kLog2,
  kMaxOverTime,
  kMinOverTime,
  kMinute,
  kMonth,
  kPi,
  kPredictLinear,
  kPresentOverTime,
  kQuantileOverTime,
  kRad,
  kRate,
  kResets,
  kRound,
  kScalar,
  kSgn,
  kSin,
  kSinh,
  kSort,
  kSortDesc,
  kSqrt,
  kStddevOverTime,
  kStdvarOverTime,
  kSumOverTime,
  kTan,
  kTanh,
  kTime,
  kTimestamp,
  kVector,
  kYear,
};

struct FunctionDef {
  const char* name;
  Func id;
  std::vector<ValueType> arg_types;
  int variadic;  // 0: exact; n > 0: up to n trailing optional args; -1: any number more
  ValueType return_type;
};
// nullptr when `name` is not a supported function.
const FunctionDef* LookupFunction(const std::string& name);

struct Call final : Expr {
  Call() : Expr(NodeKind::kCall) {}
  ValueType Type() const override { return func->return_type; }
  std::string ToString() const override;
  const FunctionDef* func = nullptr;
  std::vector<ExprPtr> args;
};

enum class AggOp {
  kSum,
  kAvg,
  kMin,
  kMax,
  kCount,
  kGroup,
  kTopK,
  kBottomK,
  kQuantile,
  kStddev,
  kStdvar,
  kCountValues
};
const char* AggOpString(AggOp op);

struct AggregateExpr final : Expr {
  AggregateExpr() : Expr(NodeKind::kAggregate) {}
  ValueType Type() const override { return ValueType::kVector; }
  std::string ToString() const override;
  AggOp op = AggOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk/quantile/count_values
  std::vector<std::string> grouping;
  bool without = false;
};

// The direct children of `e` in source order: a matrix selector's vector selector, an
// aggregate's parameter before its expression. The one place that knows every node's
// children: walks (the parser's depth bound, the engine's prefetch, MaxReachMs) go through it.
std::vector<const Expr*> Children(const Expr& e);

// How far before the evaluation time `e` reads samples: the largest range plus offset of its
// selectors and subqueries (the lookback delta not included; a subquery's range adds to what
// its expression reads; `@` times are not counted). Recursive: call it on parsed trees, whose
// depth the parser bounds.
std::int64_t MaxReachMs(const Expr& e);

}  // namespace vigil::promql
