#include "agent/core/exposition.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include "agent/base/utf8.h"

namespace vigil {
namespace {

prometheus::MetricType ToPrometheusType(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return prometheus::MetricType::Counter;
    case MetricType::kGauge:
      return prometheus::MetricType::Gauge;
    case MetricType::kHistogram:
      return prometheus::MetricType::Histogram;
    case MetricType::kSummary:
      return prometheus::MetricType::Summary;
    case MetricType::kUntyped:
      return prometheus::MetricType::Untyped;
  }
  return prometheus::MetricType::Untyped;
}

// prometheus-cpp escapes label values (\\, \", \n) but writes HELP texts as they are: a
// newline in a scraped HELP would start a line of its own in vigil's output.
std::string EscapeHelp(std::string_view help) {
  std::string valid = ToValidUtf8(help);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<prometheus::ClientMetric::Label> ToLabels(const Labels& labels,
                                                      std::string_view skip = "") {
  std::vector<prometheus::ClientMetric::Label> out;
  out.reserve(labels.size());
  for (const Label& l : labels) {
    if (l.name != skip) out.push_back({l.name, ToValidUtf8(l.value)});
  }
  return out;
}

// Names the text format cannot carry: the family (a bad metric name) or the sample (a bad
// label name) is left out rather than breaking the whole page.
bool HasValidLabelNames(const Labels& labels) {
  for (const Label& l : labels) {
    if (!IsValidLabelName(l.name)) return false;
  }
  return true;
}

double ParseBound(std::string_view text) {
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  double v = std::numeric_limits<double>::quiet_NaN();
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

std::uint64_t ToCount(double v) {
  return (std::isfinite(v) && v > 0) ? static_cast<std::uint64_t>(v) : 0;
}

// Histograms and summaries: one ClientMetric per label set without le/quantile.
void AddGrouped(const MetricFamily& family, prometheus::MetricFamily& out) {
  const bool histogram = family.type == MetricType::kHistogram;
  const std::string_view split = histogram ? "le" : "quantile";
  std::unordered_map<Labels, std::size_t, LabelsHash> index;
  auto metric_for = [&](const Sample& s) -> prometheus::ClientMetric& {
    Labels key = s.labels;
    key.Remove(split);
    auto [it, inserted] = index.try_emplace(key, out.metric.size());
    if (inserted) {
      out.metric.emplace_back();
      out.metric.back().label = ToLabels(key);
    }
    return out.metric[it->second];
  };
  for (const Sample& s : family.samples) {
    if (!HasValidLabelNames(s.labels)) continue;
    prometheus::ClientMetric& m = metric_for(s);
    if (histogram) {
      switch (s.suffix) {
        case SampleSuffix::kBucket: {
          double bound = ParseBound(s.labels.Get("le"));
          if (!std::isinf(bound)) m.histogram.bucket.push_back({ToCount(s.value), bound});
          break;
        }
        case SampleSuffix::kSum:
          m.histogram.sample_sum = s.value;
          break;
        case SampleSuffix::kCount:
          m.histogram.sample_count = ToCount(s.value);
          break;
        case SampleSuffix::kNone:
          break;
      }
    } else {
      switch (s.suffix) {
        case SampleSuffix::kNone:
          m.summary.quantile.push_back({ParseBound(s.labels.Get("quantile")), s.value});
          break;
        case SampleSuffix::kSum:
          m.summary.sample_sum = s.value;
          break;
        case SampleSuffix::kCount:
          m.summary.sample_count = ToCount(s.value);
          break;
        case SampleSuffix::kBucket:
          break;
      }
    }
  }
  // prometheus-cpp prints the +Inf bucket from sample_count itself.
}

}  // namespace

prometheus::MetricFamily ToPrometheusFamily(const MetricFamily& family) {
  prometheus::MetricFamily out;
  out.name = family.name;
  out.help = EscapeHelp(family.help);
  out.type = ToPrometheusType(family.type);
  if (family.type == MetricType::kHistogram || family.type == MetricType::kSummary) {
    AddGrouped(family, out);
    return out;
  }
  out.metric.reserve(family.samples.size());
  for (const Sample& s : family.samples) {
    if (!HasValidLabelNames(s.labels)) continue;
    prometheus::ClientMetric m;
    m.label = ToLabels(s.labels);
    switch (family.type) {
      case MetricType::kCounter:
        m.counter.value = s.value;
        break;
      case MetricType::kGauge:
        m.gauge.value = s.value;
        break;
      default:
        m.untyped.value = s.value;
    }
    m.timestamp_ms = s.timestamp;
    out.metric.push_back(std::move(m));
  }
  return out;
}

void ExpositionBuilder::Add(const Snapshot& snapshot) {
  for (const MetricFamily& f : snapshot) Add(f);
}

void ExpositionBuilder::Add(const MetricFamily& family) {
  if (!IsValidMetricName(family.name)) {
    ++dropped_;
    return;
  }
  auto [it, inserted] = index_.try_emplace(family.name, families_.size());
  if (inserted) {
    families_.push_back(family);
    return;
  }
  MetricFamily& existing = families_[it->second];
  if (existing.type != family.type) {
    ++dropped_;
    return;
  }
  existing.samples.insert(existing.samples.end(), family.samples.begin(), family.samples.end());
}

std::string ExpositionBuilder::Render() const {
  std::vector<prometheus::MetricFamily> families;
  families.reserve(families_.size());
  for (const MetricFamily& f : families_) families.push_back(ToPrometheusFamily(f));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace vigil
