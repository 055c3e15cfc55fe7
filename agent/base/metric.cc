#include "agent/base/metric.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace vigil {

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kUntyped:
      return "untyped";
  }
  return "untyped";
}

std::string_view SuffixString(SampleSuffix suffix) {
  switch (suffix) {
    case SampleSuffix::kNone:
      return "";
    case SampleSuffix::kBucket:
      return "_bucket";
    case SampleSuffix::kSum:
      return "_sum";
    case SampleSuffix::kCount:
      return "_count";
  }
  return "";
}

std::string FormatFloat(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, ec == std::errc() ? end : buf);
}

MetricFamily& MetricSink::FamilyFor(std::string_view name, std::string_view help, MetricType type) {
  auto [it, inserted] = index_.try_emplace(std::string(name), families_.size());
  if (inserted) {
    families_.push_back(MetricFamily{std::string(name), std::string(help), type, {}});
  }
  return families_[it->second];
}

Labels MetricSink::WithCommon(Labels labels) const {
  for (const Label& l : common_) {
    if (!labels.Has(l.name)) labels.Set(l.name, l.value);
  }
  return labels;
}

void MetricSink::Add(std::string_view name, std::string_view help, MetricType type, Sample sample) {
  MetricFamily& family = FamilyFor(name, help, type);
  if (family.type != type) {  // one name, one type: the first wins
    ++conflicts_;
    return;
  }
  sample.labels = WithCommon(std::move(sample.labels));
  family.samples.push_back(std::move(sample));
  ++sample_count_;
}

void MetricSink::Gauge(std::string_view name, std::string_view help, Labels labels, double value) {
  Add(name, help, MetricType::kGauge, Sample{std::move(labels), value});
}

void MetricSink::Counter(std::string_view name, std::string_view help, Labels labels,
                         double value) {
  Add(name, help, MetricType::kCounter, Sample{std::move(labels), value});
}

void MetricSink::Untyped(std::string_view name, std::string_view help, Labels labels,
                         double value) {
  Add(name, help, MetricType::kUntyped, Sample{std::move(labels), value});
}

void MetricSink::Histogram(std::string_view name, std::string_view help, Labels labels,
                           const std::vector<std::pair<double, double>>& buckets, double sum,
                           double count) {
  auto add_bucket = [&](double bound, double cumulative) {
    Labels bl = labels;
    bl.Set("le", FormatFloat(bound));
    Add(name, help, MetricType::kHistogram,
        Sample{std::move(bl), cumulative, SampleSuffix::kBucket});
  };
  for (const auto& [bound, cumulative] : buckets) add_bucket(bound, cumulative);
  if (buckets.empty() || !std::isinf(buckets.back().first)) {
    add_bucket(std::numeric_limits<double>::infinity(), count);
  }
  Add(name, help, MetricType::kHistogram, Sample{labels, sum, SampleSuffix::kSum});
  Add(name, help, MetricType::kHistogram, Sample{std::move(labels), count, SampleSuffix::kCount});
}

Snapshot MetricSink::Take() {
  index_.clear();
  sample_count_ = 0;
  return std::move(families_);
}

}  // namespace vigil
