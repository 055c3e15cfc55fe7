// Renders collected snapshots as the Prometheus text format (0.0.4) through prometheus-cpp's
// data model and TextSerializer.
//
// Families of the same name from several instances are merged into one; a family whose type
// disagrees with an earlier one of the same name is dropped (and counted) rather than
// producing an invalid exposition. Whatever a source sends, the page stays valid: HELP texts
// are escaped (prometheus-cpp escapes only label values), invalid UTF-8 in HELP texts and label
// values becomes U+FFFD, a family with an invalid name is dropped (and counted) and so is a
// sample with an invalid label name. Pure functions; thread-safe.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "agent/base/metric.h"

namespace prometheus {
struct MetricFamily;
}

namespace vigil {

// Converts one of our families to prometheus-cpp's model (histograms and summaries are
// regrouped from their flat series).
prometheus::MetricFamily ToPrometheusFamily(const MetricFamily& family);

class ExpositionBuilder {
 public:
  // Adds every family of `snapshot`, merging by name.
  void Add(const Snapshot& snapshot);
  void Add(const MetricFamily& family);
  std::size_t dropped_families() const { return dropped_; }
  std::string Render() const;

 private:
  std::vector<MetricFamily> families_;
  std::unordered_map<std::string, std::size_t> index_;  // name -> position in families_
  std::size_t dropped_ = 0;
};

}  // namespace vigil
