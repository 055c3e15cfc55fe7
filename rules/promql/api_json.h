// Prometheus HTTP API JSON for query results, as /api/v1/query and /api/v1/query_range
// answer: {"status":"success","data":{"resultType":"vector","result":[...]}} or
// {"status":"error","errorType":"bad_data","error":"..."}. Timestamps are seconds with
// millisecond fractions, values are strings ("1.5", "NaN", "+Inf"), strings are escaped as Go's
// encoding/json does (HTML-safe). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "agent/base/status.h"
#include "rules/promql/value.h"

namespace vigil::promql {

// `t` stamps scalar and string results (the query time).
std::string FormatQueryResponse(const Value& v);
// Prometheus's errorType of a failed query: "bad_data" (parse and parameter errors),
// "timeout" (DeadlineExceeded), "canceled" (Cancelled), "execution" (too many samples and
// evaluation errors), "unavailable", "internal".
std::string_view QueryErrorType(const Status& status);
// The HTTP status Prometheus answers with for that errorType: 400, 503, 499, 422, 503, 500.
int QueryErrorHttpStatus(const Status& status);
std::string FormatQueryError(const Status& status);
std::string FormatQueryResult(const Result<Value>& r);

// JSON string literal with Go's escaping; ill-formed UTF-8 becomes U+FFFD (as Go's encoding/json
// writes it), so that text from a query, a label or an error message never breaks the JSON.
std::string JsonString(std::string_view s);
// Milliseconds as seconds the way Prometheus writes them: 1700000000, 1700000000.120.
std::string JsonTimestamp(TimestampMs t);

}  // namespace vigil::promql
