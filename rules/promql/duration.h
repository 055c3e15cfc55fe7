// Prometheus durations: "1h30m", "5m", "250ms", "1y" (365d), "1w".
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace vigil::promql {

// Parses a duration made of unit terms in decreasing order (y w d h m s ms), each at most once.
// Returns milliseconds.
Result<std::int64_t> ParseDuration(std::string_view text);
// Formats milliseconds as Prometheus does ("1h30m", "0s"); negative values get a leading "-".
std::string FormatDuration(std::int64_t ms);

}  // namespace vigil::promql
