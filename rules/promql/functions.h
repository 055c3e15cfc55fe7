// Implementations of PromQL functions, aggregations and binary operators used by the engine.
//
// Internal to vigil_promql. Pure functions over values; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/base/status.h"
#include "rules/promql/ast.h"
#include "rules/promql/value.h"

namespace vigil::promql {

Labels DropMetricName(const Labels& l);

// Functions over one series' points in a range (rate, *_over_time, ...). `scalar_arg` is the
// value of the other (scalar) argument where the function has one. Returns nullopt when the
// function yields no sample for this series.
struct RangeContext {
  TimestampMs ts = 0;          // evaluation time
  std::int64_t range_ms = 0;   // selector range
  std::int64_t offset_ms = 0;  // selector offset
};
std::optional<double> CallRangeFunction(const std::string& name, const std::vector<Point>& points,
                                        const RangeContext& ctx, double scalar_arg);

// Functions whose arguments are instant vectors, scalars and strings. `args` are the evaluated
// arguments in order. Appends to *out.
Status CallVectorFunction(const Call& call, std::vector<Value>& args, TimestampMs ts, Vector* out);

// Aggregates `in` per AggregateExpr; `param` is the evaluated parameter (scalar or string).
Status Aggregate(const AggregateExpr& agg, const Vector& in, const Value* param, Vector* out);

// Binary operators.
double ScalarBinop(BinOp op, double lhs, double rhs);
Vector VectorScalarBinop(BinOp op, const Vector& vec, double scalar, bool scalar_on_left,
                         bool return_bool);
Status VectorVectorBinop(const BinaryExpr& e, const Vector& lhs, const Vector& rhs, Vector* out);

// Prometheus' quantile over values (used by quantile and quantile_over_time).
double Quantile(double q, std::vector<double> values);

}  // namespace vigil::promql
