// Parameters of the Prometheus-compatible query API (/api/v1/query, /api/v1/query_range) and
// its error JSON, shared by the HTTP server and `vigil query`; results are written by
// promql::FormatQueryResult (rules/promql/api_json.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/base/clock.h"

namespace vigil {

// A time parameter: Unix seconds with decimals, or RFC 3339 ("2026-11-23T12:00:00Z").
std::optional<TimestampMs> ParseTimeParam(std::string_view text);
// A step or duration parameter: seconds ("15", "0.5") or a duration ("15s", "1m").
std::optional<std::int64_t> ParseStepParam(std::string_view text);

// The JSON of an error: {"status":"error","errorType":type,"error":message}.
std::string ErrorJson(std::string_view type, std::string_view message);

}  // namespace vigil
