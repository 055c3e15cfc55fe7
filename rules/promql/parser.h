// Parser: PromQL text to a type-checked AST (recursive descent).
//
// Errors name the position: "1:14: parse error: unexpected ...". Thread-safe (no shared
// state).
#pragma once

#include <string_view>

#include "agent/base/status.h"
#include "rules/promql/ast.h"

namespace vigil::promql {

Result<ExprPtr> ParseExpr(std::string_view input);

// Parses a series description such as `foo{a="b"}` (equality matchers only) into labels,
// as used by test input files.
Result<Labels> ParseSeriesLabels(std::string_view input);

}  // namespace vigil::promql
