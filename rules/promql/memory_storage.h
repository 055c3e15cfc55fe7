// MemoryStorage: a simple in-memory Querier holding every sample it is given.
//
// Meant for tests, the promtool-format rule tester and offline queries over a file; it scans
// all series on each Select(). Not thread-safe for concurrent Add() and Select(); concurrent
// Select() calls alone are safe.
#pragma once

#include <map>
#include <vector>

#include "rules/promql/querier.h"

namespace vigil::promql {

class MemoryStorage final : public Querier {
 public:
  // Appends a sample; samples of one series must come in ascending time order, and a sample
  // at the same timestamp as the series' last one replaces it.
  void Add(const Labels& labels, TimestampMs t, double v);
  void Clear() { series_.clear(); }
  std::size_t SeriesCount() const { return series_.size(); }

  Result<std::vector<Series>> Select(const std::vector<LabelMatcher>& matchers, TimestampMs mint,
                                     TimestampMs maxt,
                                     const SelectLimits& limits = {}) const override;

 private:
  std::map<Labels, std::vector<Point>> series_;
};

}  // namespace vigil::promql
