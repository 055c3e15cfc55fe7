// The Prometheus-compatible query API over a Querier: /api/v1/query, /api/v1/query_range
// and their JSON, shared by the HTTP server and `vigil query`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/base/clock.h"
#include "rules/promql/engine.h"

namespace vigil {

// Go's strconv.FormatFloat(v, 'f', -1, 64), as Prometheus writes sample values:
// "0.00001", "1500", "NaN", "+Inf".
std::string FormatPromValue(double v);
// A time parameter: Unix seconds with decimals, or RFC 3339 ("2026-11-23T12:00:00Z").
std::optional<TimestampMs> ParseTimeParam(std::string_view text);
// A step or duration parameter: seconds ("15", "0.5") or a duration ("15s", "1m").
std::optional<std::int64_t> ParseStepParam(std::string_view text);

// Prometheus's response body for an evaluated query (success or error).
std::string QueryResponseJson(const Result<promql::Value>& result);
// The JSON of an error: {"status":"error","errorType":type,"error":message}.
std::string ErrorJson(std::string_view type, std::string_view message);

}  // namespace vigil
