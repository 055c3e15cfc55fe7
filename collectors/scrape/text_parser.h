// A parser of the Prometheus text exposition format 0.0.4.
//
// Reads `# HELP` and `# TYPE` lines, samples with escaped label values, NaN/+Inf/-Inf and
// optional millisecond timestamps. Samples of histograms (`_bucket`, `_sum`, `_count`) and
// summaries (`{quantile=..}`, `_sum`, `_count`) are grouped into their declared family with
// the matching SampleSuffix; samples without a TYPE form untyped families. A bad line is
// reported with its 1-based line number ("line 12: unexpected character '}'") and skipped;
// the rest of the text is still parsed. Families appear in order of first appearance; a
// declared family without samples is left out. Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/metric.h"

namespace vigil {

struct ExpositionError {
  std::size_t line = 0;  // 1-based
  std::string message;   // "line 12: unexpected character '}'"
};

struct ParsedExposition {
  Snapshot families;
  std::vector<ExpositionError> errors;
  std::size_t samples = 0;
};

ParsedExposition ParseExposition(std::string_view text);

// Parses a sample value as the format allows: a Go float, "NaN", "+Inf", "-Inf".
bool ParseExpositionValue(std::string_view text, double& out);

}  // namespace vigil
