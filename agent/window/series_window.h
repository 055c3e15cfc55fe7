// SeriesWindow: the in-memory window of everything vigil collected, for the rule engine and
// /api/v1/query. Implements promql::Querier.
//
// Samples are kept in XorChunks (delta-of-delta timestamps, XOR values) per series for
// `retention` (computed from the loaded rules: largest range + offset + 5m lookback, capped
// by config). Each source (a collector instance, a rule group) ingests whole collections;
// a series the source had last time but not now gets Prometheus's staleness marker.
//
// Cardinality is capped (WindowLimits): a series the window does not hold yet is refused when
// the window holds `max_series`, or when its source already has `max_series_per_source` in the
// collection being ingested. Series it already holds keep appending. A refusal costs no memory
// (the label set is not kept); only a counter per source (sources come from the config) grows.
// Thread-safe: ingestion takes a writer lock, Select, Stats and Refused a reader lock.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/labels.h"
#include "agent/base/metric.h"
#include "agent/base/shared_mutex.h"
#include "agent/window/xor_chunk.h"
#include "rules/promql/querier.h"

namespace vigil {

struct WindowStats {
  std::size_t series = 0;
  std::size_t samples = 0;
  std::size_t bytes = 0;  // chunk memory, capacity included
};

struct WindowLimits {
  std::size_t max_series = 100'000;            // global.max_series
  std::size_t max_series_per_source = 20'000;  // global.max_series_per_source
  bool operator==(const WindowLimits&) const = default;
};

// The source Append() counts its refusals under (rule output has no source of its own).
inline constexpr char kRuleOutputSource[] = "rules";

// One sample the window stored (staleness markers included), as handed to the observer.
struct ObservedSample {
  const Labels* labels;  // __name__ included; valid only during the observer call
  TimestampMs t;
  double v;
};

class SeriesWindow final : public promql::Querier {
 public:
  // Called with the samples each ingest call stored, in order, under the window's write
  // lock (so series order is kept); it must be quick and must not call back into the window.
  using Observer = std::function<void(const std::vector<ObservedSample>&)>;

  explicit SeriesWindow(Duration retention);

  // Sets (or with nullptr clears) the observer, e.g. the remote writer.
  void SetObserver(Observer observer);

  void SetRetention(Duration retention);
  Duration retention() const;
  // Takes effect for series created from now on; series held beyond a lowered cap stay.
  void SetLimits(WindowLimits limits);
  WindowLimits limits() const;

  // One collection of `source` at `t`: each sample is stored as name+suffix with its labels
  // (its own timestamp when it has one). Series of the source's previous collection that are
  // missing now get a staleness marker at `t`. New series beyond a cap are dropped and counted.
  void Ingest(const std::string& source, const Snapshot& snapshot, TimestampMs t);
  // One sample of a series no source owns (rule output: the rule group writes its own
  // staleness markers). Visible to Select at once. Only the global cap applies; a refusal is
  // counted under kRuleOutputSource.
  void Append(const Labels& labels, TimestampMs t, double v);
  // Marks every series of `source` stale at `t` and forgets the source (e.g. after a reload).
  void DropSource(const std::string& source, TimestampMs t);

  Result<std::vector<promql::Series>> Select(
      const std::vector<promql::LabelMatcher>& matchers, TimestampMs mint, TimestampMs maxt,
      const promql::SelectLimits& limits = {}) const override;
  WindowStats Stats() const;
  // New series refused by the caps so far, per source (sorted by source; counters, never reset).
  std::vector<std::pair<std::string, std::uint64_t>> Refused() const;
  // Drops chunks that ended before now - retention and series left with nothing.
  void Compact(TimestampMs now);

 private:
  struct MemSeries {
    Labels labels;
    std::vector<XorChunk> chunks;
    TimestampMs last_t = INT64_MIN;
    int sources = 0;  // how many sources currently produce it
  };
  using Id = std::uint32_t;

  static constexpr Id kRefused = ~Id{0};

  // The series' id; kRefused when it is new and a cap is reached (`source_series`: how many
  // series the calling source has in this collection so far).
  Id GetOrCreate(const Labels& labels, std::size_t source_series) REQUIRES(mu_);
  void CountRefusedLocked(const std::string& source, std::uint64_t n) REQUIRES(mu_);
  void AppendLocked(Id id, TimestampMs t, double v) REQUIRES(mu_);
  void ReplaceSourceSet(const std::string& source, std::vector<Id> ids, TimestampMs t)
      REQUIRES(mu_);
  void NotifyObserverLocked() REQUIRES(mu_);
  // Ingest's work under the lock; true when a Compact is due (run after it is released).
  bool AddCollection(const std::string& source, const Snapshot& snapshot, TimestampMs t)
      EXCLUDES(mu_);

  mutable SharedMutex mu_;  // prefers writers: ingestion never waits behind a stream of queries
  std::vector<std::unique_ptr<MemSeries>> series_ GUARDED_BY(mu_);  // by Id; null when freed
  std::vector<Id> free_ GUARDED_BY(mu_);
  std::unordered_map<Labels, Id, LabelsHash> index_ GUARDED_BY(mu_);
  std::unordered_map<std::string, std::vector<Id>> by_name_ GUARDED_BY(mu_);
  // Sorted ids per source.
  std::unordered_map<std::string, std::vector<Id>> source_sets_ GUARDED_BY(mu_);
  Duration retention_;
  WindowLimits limits_ GUARDED_BY(mu_);
  std::map<std::string, std::uint64_t> refused_ GUARDED_BY(mu_);  // by source
  TimestampMs last_compact_ GUARDED_BY(mu_) = 0;
  Observer observer_ GUARDED_BY(mu_);
  std::vector<ObservedSample> observed_ GUARDED_BY(mu_);
};

}  // namespace vigil
