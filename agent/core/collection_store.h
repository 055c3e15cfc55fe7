// CollectionStore: the latest result and health of every collector instance.
//
// Written by the scheduler's workers, read by the exporter, the status page and the series
// window. Snapshots are immutable and shared, so readers copy pointers, not samples.
// Thread-safe. generation() grows on every change, so readers can cache what they render.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/metric.h"
#include "agent/base/mutex.h"

namespace vigil {

struct CollectorState {
  std::string kind;
  std::string target;
  bool up = false;
  bool has_run = false;
  double duration_seconds = 0;
  std::string last_error;
  TimestampMs last_run = 0;      // start of the last finished (or timed-out) run
  TimestampMs last_success = 0;  // start of the last successful run
  std::uint64_t runs = 0, failures = 0, skipped = 0, timeouts = 0;
  std::shared_ptr<const Snapshot> snapshot;                               // never null once has_run
  std::shared_ptr<const std::map<std::string, std::string>> attachments;  // MetricSink::Attach
};

class CollectionStore {
 public:
  using Key = std::pair<std::string, std::string>;  // (kind, target)
  using Listener = std::function<void(const CollectorState&)>;

  // Creates the entry if needed and lets `fn` change it, under the lock.
  void Update(const Key& key, const std::function<void(CollectorState&)>& fn) EXCLUDES(mu_);
  // Drops every entry whose key is not in `keep` (after a reload).
  void Retain(const std::set<Key>& keep) EXCLUDES(mu_);
  std::vector<CollectorState> States() const EXCLUDES(mu_);
  std::uint64_t generation() const { return generation_.load(); }
  // Called (outside the lock, on the worker thread) after each published result.
  void SetListener(Listener listener) EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::map<Key, CollectorState> states_ GUARDED_BY(mu_);
  Listener listener_ GUARDED_BY(mu_);
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace vigil
