// Parser: PromQL text to a type-checked AST (recursive descent).
//
// Errors name the position: "1:14: parse error: unexpected ...". Thread-safe (no shared
// state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/base/status.h"
#include "rules/promql/ast.h"

namespace vigil::promql {

// The longest query text accepted (a parse error beyond). Nesting is bounded too: at most 256
// levels and 1,024 binary operators.
inline constexpr std::size_t kMaxQueryLength = 256 * 1024;
// The longest range or offset (2^53 ms, about 285,000 years); query times are bounded by the
// same figure (agent/api), so time - offset - range - lookback always fits in 64 bits.
inline constexpr std::int64_t kMaxQueryDurationMs = std::int64_t{1} << 53;

Result<ExprPtr> ParseExpr(std::string_view input);

// Parses a series description such as `foo{a="b"}` (equality matchers only) into labels,
// as used by test input files.
Result<Labels> ParseSeriesLabels(std::string_view input);

}  // namespace vigil::promql
