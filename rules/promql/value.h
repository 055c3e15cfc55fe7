// PromQL values: samples, series, instant vectors, range matrices, scalars and strings.
//
// Plain data, no internal synchronisation: safe to share read-only between threads.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/labels.h"

namespace vigil::promql {

// The NaN bit pattern Prometheus writes to mark a series stale (value.StaleNaN).
inline constexpr std::uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) { return std::bit_cast<std::uint64_t>(v) == kStaleNaNBits; }

struct Point {
  TimestampMs t = 0;
  double v = 0;
};

// One element of an instant vector. `t` is the evaluation time, except for samples that come
// straight from a vector selector, where it is the stored sample's timestamp.
struct Sample {
  Labels metric;
  double v = 0;
  TimestampMs t = 0;
};

struct Series {
  Labels metric;
  std::vector<Point> points;  // ascending by t
};

using Vector = std::vector<Sample>;
using Matrix = std::vector<Series>;

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };
const char* ValueTypeName(ValueType t);  // "scalar", "instant vector", "range vector", "string"

// The result of evaluating an expression: exactly one of the members is meaningful, by `type`.
struct Value {
  ValueType type = ValueType::kNone;
  double scalar = 0;
  std::string str;
  Vector vector;
  Matrix matrix;
  TimestampMs t = 0;  // evaluation time of a scalar or string

  static Value Scalar(double v, TimestampMs t) {
    Value r;
    r.type = ValueType::kScalar;
    r.scalar = v;
    r.t = t;
    return r;
  }
  static Value String(std::string s, TimestampMs t) {
    Value r;
    r.type = ValueType::kString;
    r.str = std::move(s);
    r.t = t;
    return r;
  }
  static Value OfVector(Vector v) {
    Value r;
    r.type = ValueType::kVector;
    r.vector = std::move(v);
    return r;
  }
  static Value OfMatrix(Matrix m) {
    Value r;
    r.type = ValueType::kMatrix;
    r.matrix = std::move(m);
    return r;
  }
};

// Formats a float the way Prometheus' JSON API does (strconv 'f'/-1 style shortest
// representation, "+Inf", "-Inf", "NaN").
std::string FormatValue(double v);

}  // namespace vigil::promql
