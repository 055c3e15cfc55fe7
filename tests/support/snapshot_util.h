// Test helpers to look samples up in a Snapshot.
#pragma once

#include <optional>
#include <string>

#include "agent/base/metric.h"

namespace vigil::testing {

// The value of the sample of family `name` whose labels include every label of `match`.
inline std::optional<double> FindValue(const Snapshot& snapshot, const std::string& name,
                                       const Labels& match = {},
                                       SampleSuffix suffix = SampleSuffix::kNone) {
  for (const MetricFamily& f : snapshot) {
    if (f.name != name) continue;
    for (const Sample& s : f.samples) {
      if (s.suffix != suffix) continue;
      bool all = true;
      for (const Label& l : match) all = all && s.labels.Get(l.name) == l.value;
      if (all) return s.value;
    }
  }
  return std::nullopt;
}

// How many samples of family `name` have every label of `match`.
inline std::size_t CountMatching(const Snapshot& snapshot, const std::string& name,
                                 const Labels& match = {}) {
  std::size_t n = 0;
  for (const MetricFamily& f : snapshot) {
    if (f.name != name) continue;
    for (const Sample& s : f.samples) {
      bool all = true;
      for (const Label& l : match) all = all && s.labels.Get(l.name) == l.value;
      n += all ? 1 : 0;
    }
  }
  return n;
}

}  // namespace vigil::testing
