#include "rules/promql/memory_storage.h"

#include <algorithm>

namespace vigil::promql {

void MemoryStorage::Add(const Labels& labels, TimestampMs t, double v) {
  auto& points = series_[labels];
  if (!points.empty() && points.back().t >= t) {
    if (points.back().t == t) {
      points.back().v = v;
      return;
    }
    auto it = std::lower_bound(points.begin(), points.end(), t,
                               [](const Point& p, TimestampMs ts) { return p.t < ts; });
    if (it != points.end() && it->t == t) {
      it->v = v;
    } else {
      points.insert(it, Point{t, v});
    }
    return;
  }
  points.push_back(Point{t, v});
}

Result<std::vector<Series>> MemoryStorage::Select(const std::vector<LabelMatcher>& matchers,
                                                  TimestampMs mint, TimestampMs maxt,
                                                  const SelectLimits& limits) const {
  std::vector<Series> out;
  std::int64_t points_left = limits.max_points;
  if (mint > maxt) return out;
  for (const auto& [labels, points] : series_) {
    if (limits.ctx != nullptr) {
      if (Status s = limits.ctx->Check(); !s.ok()) return s;
    }
    bool ok = true;
    for (const auto& m : matchers) {
      if (!m.MatchesLabels(labels)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    auto lo = std::lower_bound(points.begin(), points.end(), mint,
                               [](const Point& p, TimestampMs ts) { return p.t < ts; });
    auto hi = std::upper_bound(points.begin(), points.end(), maxt,
                               [](TimestampMs ts, const Point& p) { return ts < p.t; });
    if (lo >= hi) continue;
    points_left -= hi - lo;
    if (points_left < 0) return Status::ResourceExhausted(kTooManySamplesError);
    out.push_back(Series{labels, std::vector<Point>(lo, hi)});
  }
  return out;
}

}  // namespace vigil::promql
