// Loads samples with timestamps from OpenMetrics / Prometheus text into a MemoryStorage.
//
// Reads the text with the scrape's parser in its OpenMetrics mode (agent/base/text_parser.h):
// timestamps in seconds, as `promtool tsdb create-blocks-from openmetrics` reads them. Samples
// without a timestamp get `default_ts`. Thread-compatible.
#pragma once

#include <string_view>

#include "agent/base/status.h"
#include "rules/promql/memory_storage.h"

namespace vigil::promql {

// The first bad line is the error: "line 12: ..."; nothing is loaded then.
Status LoadOpenMetrics(std::string_view text, MemoryStorage* out, TimestampMs default_ts = 0);

}  // namespace vigil::promql
