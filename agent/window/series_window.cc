#include "agent/window/series_window.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>

namespace vigil {

SeriesWindow::SeriesWindow(Duration retention) : retention_(retention) {
  refused_.emplace(kRuleOutputSource, 0);
}

void SeriesWindow::SetRetention(Duration retention) {
  WriterLock lock(mu_);
  retention_ = retention;
}

void SeriesWindow::SetObserver(Observer observer) {
  WriterLock lock(mu_);
  observer_ = std::move(observer);
  observed_.clear();
}

void SeriesWindow::NotifyObserverLocked() {
  if (observed_.empty()) return;
  if (observer_) observer_(observed_);
  observed_.clear();
}

Duration SeriesWindow::retention() const {
  ReaderLock lock(mu_);
  return retention_;
}

void SeriesWindow::SetLimits(WindowLimits limits) {
  WriterLock lock(mu_);
  limits_ = limits;
}

WindowLimits SeriesWindow::limits() const {
  ReaderLock lock(mu_);
  return limits_;
}

void SeriesWindow::CountRefusedLocked(const std::string& source, std::uint64_t n) {
  // Every source gets its counter at 0 on first sight, so that increase() sees the first refusal.
  refused_[source] += n;
}

SeriesWindow::Id SeriesWindow::GetOrCreate(const Labels& labels, std::size_t source_series) {
  auto it = index_.find(labels);
  if (it != index_.end()) return it->second;
  if (index_.size() >= limits_.max_series || source_series >= limits_.max_series_per_source) {
    return kRefused;
  }
  Id id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<Id>(series_.size());
    series_.emplace_back();
  }
  series_[id] = std::make_unique<MemSeries>();
  series_[id]->labels = labels;
  index_.emplace(labels, id);
  by_name_[std::string(labels.Get("__name__"))].push_back(id);
  return id;
}

void SeriesWindow::AppendLocked(Id id, TimestampMs t, double v) {
  MemSeries& s = *series_[id];
  if (t <= s.last_t) return;  // out of order or duplicate: dropped, as Prometheus does
  if (s.chunks.empty() || !s.chunks.back().Append(t, v)) {
    s.chunks.emplace_back();
    s.chunks.back().Append(t, v);
  }
  s.last_t = t;
  if (observer_) observed_.push_back(ObservedSample{&s.labels, t, v});
}

void SeriesWindow::ReplaceSourceSet(const std::string& source, std::vector<Id> ids, TimestampMs t) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<Id>& old = source_sets_[source];
  // Series the source no longer produces: staleness marker.
  std::vector<Id> gone;
  std::set_difference(old.begin(), old.end(), ids.begin(), ids.end(), std::back_inserter(gone));
  for (Id id : gone) {
    MemSeries& s = *series_[id];
    --s.sources;
    AppendLocked(id, std::max(t, s.last_t + 1), promql::StaleNaN());
  }
  std::vector<Id> added;
  std::set_difference(ids.begin(), ids.end(), old.begin(), old.end(), std::back_inserter(added));
  for (Id id : added) ++series_[id]->sources;
  old = std::move(ids);
}

void SeriesWindow::Ingest(const std::string& source, const Snapshot& snapshot, TimestampMs t) {
  if (AddCollection(source, snapshot, t)) Compact(t);
}

bool SeriesWindow::AddCollection(const std::string& source, const Snapshot& snapshot,
                                 TimestampMs t) {
  WriterLock lock(mu_);
  std::vector<Id> ids;
  std::uint64_t refused = 0;
  for (const MetricFamily& f : snapshot) {
    for (const Sample& s : f.samples) {
      Labels l = s.labels;
      l.Set("__name__", f.name + std::string(SuffixString(s.suffix)));
      Id id = GetOrCreate(l, ids.size());
      if (id == kRefused) {
        ++refused;
        continue;
      }
      AppendLocked(id, s.timestamp ? s.timestamp : t, s.value);
      ids.push_back(id);
    }
  }
  CountRefusedLocked(source, refused);
  ReplaceSourceSet(source, std::move(ids), t);
  NotifyObserverLocked();
  return t - last_compact_ > 30'000;
}

void SeriesWindow::Append(const Labels& labels, TimestampMs t, double v) {
  WriterLock lock(mu_);
  Id id = GetOrCreate(labels, 0);  // only the global cap: rule output has no source set
  if (id == kRefused) {
    CountRefusedLocked(kRuleOutputSource, 1);
    return;
  }
  AppendLocked(id, t, v);
  NotifyObserverLocked();
}

void SeriesWindow::DropSource(const std::string& source, TimestampMs t) {
  WriterLock lock(mu_);
  ReplaceSourceSet(source, {}, t);
  source_sets_.erase(source);
  NotifyObserverLocked();
}

Result<std::vector<promql::Series>> SeriesWindow::Select(
    const std::vector<promql::LabelMatcher>& matchers, TimestampMs mint, TimestampMs maxt,
    const promql::SelectLimits& limits) const {
  ReaderLock lock(mu_);
  std::vector<promql::Series> out;
  if (mint > maxt) return out;
  std::int64_t points_left = limits.max_points;
  Status stop;
  std::size_t considered = 0;
  // Returns false once the query must stop (budget, deadline or cancellation) and sets `stop`.
  auto consider = [&](Id id) REQUIRES_SHARED(mu_) {
    if (limits.ctx != nullptr && ++considered % 64 == 0) {
      stop = limits.ctx->Check();
      if (!stop.ok()) return false;
    }
    const MemSeries* s = series_[id].get();
    if (s == nullptr || s->chunks.empty() || s->last_t < mint) return true;
    for (const promql::LabelMatcher& m : matchers) {
      if (!m.MatchesLabels(s->labels)) return true;
    }
    promql::Series series{s->labels, {}};
    for (const XorChunk& c : s->chunks) {
      if (c.max_time() < mint || c.min_time() > maxt) continue;
      c.ForEach([&](TimestampMs t, double v) {
        if (t >= mint && t <= maxt) series.points.push_back({t, v});
      });
    }
    points_left -= static_cast<std::int64_t>(series.points.size());
    if (points_left < 0) {
      stop = Status::ResourceExhausted(promql::kTooManySamplesError);
      return false;
    }
    if (!series.points.empty()) out.push_back(std::move(series));
    return true;
  };
  // An equality matcher on the name narrows the scan to that name's series.
  for (const promql::LabelMatcher& m : matchers) {
    if (m.name() == "__name__" && m.type() == promql::LabelMatcher::Type::kEqual) {
      auto it = by_name_.find(m.value());
      if (it != by_name_.end()) {
        for (Id id : it->second) {
          if (!consider(id)) return stop;
        }
      }
      return out;
    }
  }
  for (Id id = 0; id < series_.size(); ++id) {
    if (!consider(id)) return stop;
  }
  return out;
}

WindowStats SeriesWindow::Stats() const {
  ReaderLock lock(mu_);
  WindowStats st;
  for (const auto& s : series_) {
    if (!s) continue;
    ++st.series;
    for (const XorChunk& c : s->chunks) {
      st.samples += static_cast<std::size_t>(c.size());
      st.bytes += c.bytes();
    }
  }
  return st;
}

std::vector<std::pair<std::string, std::uint64_t>> SeriesWindow::Refused() const {
  ReaderLock lock(mu_);
  return {refused_.begin(), refused_.end()};
}

void SeriesWindow::Compact(TimestampMs now) {
  WriterLock lock(mu_);
  last_compact_ = now;
  TimestampMs cutoff = now - retention_.count();
  for (Id id = 0; id < series_.size(); ++id) {
    MemSeries* s = series_[id].get();
    if (s == nullptr) continue;
    auto keep = std::find_if(s->chunks.begin(), s->chunks.end(),
                             [&](const XorChunk& c) { return c.max_time() >= cutoff; });
    s->chunks.erase(s->chunks.begin(), keep);
    if (s->chunks.empty() && s->sources == 0) {
      index_.erase(s->labels);
      auto& names = by_name_[std::string(s->labels.Get("__name__"))];
      names.erase(std::remove(names.begin(), names.end(), id), names.end());
      series_[id].reset();
      free_.push_back(id);
    }
  }
  for (auto it = by_name_.begin(); it != by_name_.end();) {
    it = it->second.empty() ? by_name_.erase(it) : std::next(it);
  }
}

}  // namespace vigil
