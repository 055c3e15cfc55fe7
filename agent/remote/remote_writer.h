// RemoteWriter: everything the series window ingests (collections and recording-rule
// results), sent to every configured remote write endpoint.
//
// For each endpoint a series gets the external labels (its own labels win) and then the
// write_relabel_configs, once: the result is cached per series, so the per-sample cost is a
// lookup and an enqueue. Samples go to that endpoint's QueueManager. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/base/labels.h"
#include "agent/base/metric.h"
#include "agent/base/mutex.h"
#include "agent/remote/queue_manager.h"
#include "agent/remote/remote_config.h"

namespace vigil::remote {

struct WriterSample {
  const Labels* labels;  // __name__ included
  TimestampMs t;
  double v;
};

class RemoteWriter {
 public:
  using SenderFactory = std::function<std::unique_ptr<WriteSender>(const RemoteWriteConfig&)>;
  // REQUIRES: every config valid (as ParseRemoteWrite accepts). The default factory makes
  // HttpSenders.
  RemoteWriter(std::vector<RemoteWriteConfig> configs, Labels external_labels,
               SenderFactory factory = nullptr,
               Duration reshard_interval = std::chrono::seconds(10));
  ~RemoteWriter();  // Stop(0)
  RemoteWriter(const RemoteWriter&) = delete;
  RemoteWriter& operator=(const RemoteWriter&) = delete;

  void Append(const std::vector<WriterSample>& samples);
  void Append(const Labels& labels, TimestampMs t, double v);
  // Flushes for at most `flush`, then stops every queue.
  void Stop(Duration flush);
  void Collect(MetricSink& sink) const;
  std::uint64_t generation() const;
  std::vector<QueueStats> Stats() const;

  const std::vector<RemoteWriteConfig>& configs() const { return configs_; }
  const Labels& external_labels() const { return external_labels_; }

 private:
  struct Endpoint {
    std::vector<RelabelConfig> relabel;
    std::unique_ptr<QueueManager> queue;
    Mutex mu;
    // Input series -> what is sent (null: relabeled away).
    std::unordered_map<Labels, std::shared_ptr<const SeriesRef>, LabelsHash> cache GUARDED_BY(mu);
  };
  std::shared_ptr<const SeriesRef> Resolve(Endpoint& e, const Labels& labels) REQUIRES(e.mu);

  std::vector<RemoteWriteConfig> configs_;
  Labels external_labels_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace vigil::remote
