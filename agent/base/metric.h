// The metric data model collectors produce: families of samples, as in the exposition format.
//
// A Snapshot is what one collection cycle of one collector produced. Histogram and summary
// families carry their series flat (`_bucket` samples with an `le` label, `_sum`, `_count`),
// the way they appear on the wire and in PromQL. Plain values; not thread-safe to mutate.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/labels.h"

namespace vigil {

enum class MetricType : std::uint8_t { kCounter, kGauge, kHistogram, kSummary, kUntyped };

// Which series of a family a sample belongs to: the family name itself, or a suffixed one.
enum class SampleSuffix : std::uint8_t { kNone, kBucket, kSum, kCount };

struct Sample {
  Labels labels;  // without __name__
  double value = 0;
  SampleSuffix suffix = SampleSuffix::kNone;
  TimestampMs timestamp = 0;  // 0: no explicit timestamp (the collection time applies)
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kUntyped;
  std::vector<Sample> samples;
};

using Snapshot = std::vector<MetricFamily>;

std::string_view MetricTypeName(MetricType type);    // "counter", "gauge", ...
std::string_view SuffixString(SampleSuffix suffix);  // "", "_bucket", "_sum", "_count"
// Shortest text that reads back as the same double: "0.25", "1e-05", "+Inf", "-Inf", "NaN".
std::string FormatFloat(double value);

// Builds a Snapshot. Families are created on first use and keep their first help and type
// (a sample of another type for the same name is refused and counted); samples keep
// insertion order. Not thread-safe: one builder per collection.
class MetricSink {
 public:
  MetricSink() = default;
  // Labels shared by every sample added afterwards (e.g. {target="main"}); sample labels win.
  void SetCommonLabels(Labels labels) { common_ = std::move(labels); }

  void Gauge(std::string_view name, std::string_view help, Labels labels, double value);
  void Counter(std::string_view name, std::string_view help, Labels labels, double value);
  void Untyped(std::string_view name, std::string_view help, Labels labels, double value);
  // buckets: (upper bound, cumulative count) in increasing bound order; +Inf is added if absent.
  void Histogram(std::string_view name, std::string_view help, Labels labels,
                 const std::vector<std::pair<double, double>>& buckets, double sum, double count);
  // Adds a raw sample to a family of any type (parsers of scraped text use this).
  void Add(std::string_view name, std::string_view help, MetricType type, Sample sample);

  // Attaches a document (e.g. JSON) the HTTP API serves beside the metrics: the top
  // statements with their full text, who blocks whom. Replaced on every collection.
  void Attach(std::string key, std::string document) {
    attachments_[std::move(key)] = std::move(document);
  }
  std::map<std::string, std::string> TakeAttachments() { return std::move(attachments_); }

  std::size_t sample_count() const { return sample_count_; }
  // Samples refused because their family already had another type.
  std::size_t conflicts() const { return conflicts_; }
  Snapshot Take();

 private:
  MetricFamily& FamilyFor(std::string_view name, std::string_view help, MetricType type);
  Labels WithCommon(Labels labels) const;

  Snapshot families_;
  std::unordered_map<std::string, std::size_t> index_;
  Labels common_;
  std::map<std::string, std::string> attachments_;
  std::size_t sample_count_ = 0;
  std::size_t conflicts_ = 0;
};

}  // namespace vigil
