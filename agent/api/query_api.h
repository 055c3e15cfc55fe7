// The Prometheus-compatible query API (/api/v1/query, /api/v1/query_range): parameter
// validation as Prometheus's API does it, and the handlers, shared by the HTTP server, the
// fuzz target and `vigil query`. Results are written by promql::FormatQueryResult
// (rules/promql/api_json.h).
//
// Every parameter is checked before evaluation: times finite and within +-2^53 ms, step > 0
// (at least 1 ms) and at most 11,000 points per series, end >= start, `timeout` a positive
// duration; anything else is a 400 with errorType bad_data. Evaluation runs under the
// engine's --query.timeout (or a shorter `timeout`), --query.max-samples and the request's
// cancellation. Pure functions over their arguments; thread-safe if the querier is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/base/clock.h"
#include "agent/http/message.h"
#include "rules/promql/engine.h"
#include "rules/promql/querier.h"

namespace vigil {

// Most points a range query may return per series (Prometheus's figure).
inline constexpr std::int64_t kMaxPointsPerSeries = 11000;

// A time parameter: Unix seconds with decimals, or RFC 3339 ("2026-11-23T12:00:00Z"). Null
// when it is neither, not finite, or further than 2^53 ms from the epoch.
std::optional<TimestampMs> ParseTimeParam(std::string_view text);
// A step or duration parameter: seconds ("15", "0.5") or a duration ("15s", "1m"). Null when
// it is not positive, under 1 ms, not finite, or over 2^53 ms.
std::optional<std::int64_t> ParseStepParam(std::string_view text);

// The JSON of an error: {"status":"error","errorType":type,"error":message}.
std::string ErrorJson(std::string_view type, std::string_view message);

// GET/POST /api/v1/query: `query`, `time` (default `now`), `timeout`.
void ServeInstantQuery(const promql::Engine& engine, const promql::Querier& querier,
                       const http::Request& req, TimestampMs now, http::Response& res);
// GET/POST /api/v1/query_range: `query`, `start`, `end`, `step`, `timeout`.
void ServeRangeQuery(const promql::Engine& engine, const promql::Querier& querier,
                     const http::Request& req, http::Response& res);

}  // namespace vigil
