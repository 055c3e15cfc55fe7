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

// Functions over one series' points in a range (rate, *_over_time, holt_winters, ...).
// `scalar_args` are the values of the function's scalar arguments in order. Returns nullopt
// when the function yields no sample for this series.
struct RangeContext {
  TimestampMs ts = 0;          // evaluation time (predict_linear's "now")
  TimestampMs window_end = 0;  // end of the range: the evaluation time less offset, or `@`
  std::int64_t range_ms = 0;   // the range selector's or subquery's range
};
std::optional<double> CallRangeFunction(Func func, const std::vector<Point>& points,
                                        const RangeContext& ctx,
                                        const std::vector<double>& scalar_args);
// The error a range function's scalar arguments give before any series is read (holt_winters'
// factors outside (0, 1)); OK for valid arguments and other functions.
Status CheckRangeFunctionArgs(Func func, const std::vector<double>& scalar_args);

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
