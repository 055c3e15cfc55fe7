#include "rules/promql/openmetrics_loader.h"

#include "agent/base/text_parser.h"

namespace vigil::promql {

Status LoadOpenMetrics(std::string_view text, MemoryStorage* out, TimestampMs default_ts) {
  ParsedExposition parsed =
      ParseExposition(text, {}, TextFormatOptions{TextFormat::kOpenMetrics, default_ts});
  if (parsed.error_count > 0) return Status::InvalidArgument(parsed.errors.front().message);
  for (const vigil::MetricFamily& family : parsed.families) {
    for (const vigil::Sample& sample : family.samples) {
      Labels labels = sample.labels;
      labels.Set("__name__", family.name + std::string(SuffixString(sample.suffix)));
      out->Add(labels, sample.timestamp, sample.value);
    }
  }
  return Status::Ok();
}

}  // namespace vigil::promql
