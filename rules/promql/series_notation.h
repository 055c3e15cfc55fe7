// Expanding-series notation of Prometheus test files: "1+2x3 _ stale _x2 5" means
// 1 3 5 7, one missing sample, a staleness marker, two missing samples, 5.
//
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "agent/base/status.h"

namespace vigil::promql {

// Each element is a sample value, StaleNaN() for `stale`, or nullopt for `_` (no sample).
// `a+bxN` and `a-bxN` give N+1 values; `axN` gives N+1 copies; `_xN` gives N gaps.
Result<std::vector<std::optional<double>>> ExpandSeriesValues(std::string_view text);

// Parses a test-file number: decimal, "Inf", "+Inf", "-Inf", "NaN" (case-insensitive).
bool ParseTestNumber(std::string_view text, double* out);

}  // namespace vigil::promql
