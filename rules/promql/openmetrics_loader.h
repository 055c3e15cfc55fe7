// Loads samples with timestamps from OpenMetrics / Prometheus text into a MemoryStorage.
//
// Accepts `name{label="value",...} value [timestamp]` lines with timestamps in seconds (as
// `promtool tsdb create-blocks-from openmetrics` reads them); `#` lines and "# EOF" are
// skipped. Samples without a timestamp get `default_ts`. Thread-compatible.
#pragma once

#include <string_view>

#include "agent/base/status.h"
#include "rules/promql/memory_storage.h"

namespace vigil::promql {

// Errors name the line: "line 12: ...".
Status LoadOpenMetrics(std::string_view text, MemoryStorage* out, TimestampMs default_ts = 0);

}  // namespace vigil::promql
