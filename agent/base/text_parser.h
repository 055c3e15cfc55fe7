// A parser of the Prometheus text exposition format 0.0.4, and of OpenMetrics text as
// `promtool tsdb create-blocks-from openmetrics` reads it (TextFormat::kOpenMetrics: timestamps
// in seconds with a fraction; TYPE info, stateset, gaugehistogram and unknown read as untyped;
// "# EOF" and "# UNIT" are comments). Scrapes and `vigil query --data` both read text here.
//
// Reads `# HELP` and `# TYPE` lines, samples with escaped label values, NaN/+Inf/-Inf and
// optional millisecond timestamps. Samples of histograms (`_bucket`, `_sum`, `_count`) and
// summaries (`{quantile=..}`, `_sum`, `_count`) are grouped into their declared family with
// the matching SampleSuffix; samples without a TYPE form untyped families. A bad line is
// reported with its 1-based line number ("line 12: unexpected character '}'") and skipped;
// the rest of the text is still parsed. Families appear in order of first appearance; a
// declared family without samples is left out. Pure function; thread-safe.
//
// Hostile input: time is linear in the text (duplicate labels are found by sorting, not by
// pairwise comparison); the first kMaxStoredErrors bad lines keep a message (input quoted in
// them is cut at 64 bytes), the rest are only counted. With ExpositionLimits, the first
// sample over a label limit stops the parse; past sample_limit samples are only counted.
// Either way `families` is then empty and `limit_error` says why, so a caller never keeps a
// partial result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/metric.h"

namespace vigil {

struct ExpositionError {
  std::size_t line = 0;  // 1-based
  std::string message;   // "line 12: unexpected character '}'"
};

// Prometheus's per-scrape limits (0: none). A sample's labels are counted as Prometheus counts
// them after relabeling, with its metric name (__name__); the caller checks again once it has
// added its own labels. The value length limit applies to the metric name too (the value of
// __name__). sample_limit also bounds the metric families a text may declare.
struct ExpositionLimits {
  std::size_t sample_limit = 0;
  std::size_t label_limit = 0;
  std::size_t label_name_length_limit = 0;
  std::size_t label_value_length_limit = 0;
};

inline constexpr std::size_t kMaxStoredErrors = 100;

enum class TextFormat : std::uint8_t { kPrometheus, kOpenMetrics };

struct TextFormatOptions {
  TextFormat format = TextFormat::kPrometheus;
  // What a sample without a timestamp gets (0 in a scrape: the collection time applies).
  TimestampMs default_timestamp = 0;
};

struct ParsedExposition {
  Snapshot families;                    // empty when limit_error is set
  std::vector<ExpositionError> errors;  // the first kMaxStoredErrors bad lines
  std::size_t error_count = 0;          // every bad line
  std::size_t samples = 0;              // valid sample lines (also those past sample_limit)
  // Empty within the limits, else e.g. "line 3: label_limit 64 exceeded by metric \"x\"".
  std::string limit_error;
};

ParsedExposition ParseExposition(std::string_view text, const ExpositionLimits& limits = {},
                                 const TextFormatOptions& options = {});

// Parses a sample value as the format allows: a Go float, "NaN", "+Inf", "-Inf".
bool ParseExpositionValue(std::string_view text, double& out);

}  // namespace vigil
