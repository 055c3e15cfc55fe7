// QueueManager: the bounded in-memory queue and parallel shards of one remote write endpoint.
//
// Samples are partitioned over the current shards by series hash, so every series stays in
// timestamp order on the wire. A shard sends a batch when it holds max_samples_per_send
// samples or its oldest sample waited batch_send_deadline. A batch is retried with exponential
// backoff (min_backoff doubling to max_backoff, or the server's Retry-After) on network
// errors, 5xx and 429, and until it succeeds the shard sends nothing newer; any other answer
// drops it (counted as failed). When `capacity` samples are pending (all shards together)
// new samples are dropped and counted. The number of shards follows the backlog: every
// reshard_interval it becomes ceil(pending / max_samples_per_send) within
// [min_shards, max_shards] (never growing while the endpoint fails); resharding waits for
// in-flight batches so order is kept. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/base/metric.h"
#include "agent/base/mutex.h"
#include "agent/remote/encode.h"
#include "agent/remote/remote_config.h"

namespace vigil::remote {

struct SendResult {
  int status = 0;            // HTTP status; 0 when there was no answer (network error)
  std::string error;         // for logs: the network error or the start of the answer body
  Duration retry_after{-1};  // from Retry-After; negative when absent
};

// Sends one encoded (snappy-compressed) WriteRequest. Called from several shard threads at
// once; implementations must be thread-safe.
class WriteSender {
 public:
  virtual ~WriteSender() = default;
  virtual SendResult Send(const std::string& body) = 0;
};

struct QueueStats {
  std::uint64_t samples_sent = 0;     // in batches the endpoint accepted
  std::uint64_t samples_failed = 0;   // refused for good (4xx other than 429) or abandoned
  std::uint64_t samples_retried = 0;  // each retry of a batch counts its samples
  std::uint64_t samples_dropped = 0;  // queue full, relabeled away, or left at stop
  std::uint64_t batches_sent = 0;
  std::uint64_t bytes_sent = 0;  // compressed bodies accepted
  std::size_t pending = 0;       // queued and in flight
  int shards = 0;
  double highest_timestamp_seconds = 0;  // newest sample enqueued
  double highest_sent_timestamp_seconds = 0;
};

class QueueManager {
 public:
  QueueManager(std::string name, std::string url, QueueConfig config,
               std::unique_ptr<WriteSender> sender,
               Duration reshard_interval = std::chrono::seconds(10));
  ~QueueManager();  // Stop(0)
  QueueManager(const QueueManager&) = delete;
  QueueManager& operator=(const QueueManager&) = delete;

  // Queues one sample; false (and counted as dropped) when the queue is full or stopped.
  bool Append(std::shared_ptr<const SeriesRef> series, TimestampMs t, double v);
  // Counts samples dropped before queueing (write_relabel_configs).
  void CountDropped(std::uint64_t n);
  // Sends what is pending for at most `flush` (none while the endpoint is failing), then
  // stops the shards; the rest is dropped.
  void Stop(Duration flush = Duration(0));

  QueueStats Stats() const;
  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }
  // vigil_remote_storage_* for this endpoint, labelled {remote_name, url}.
  void Collect(MetricSink& sink) const;
  // Changes whenever a metric may have changed.
  std::uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Part {
    std::deque<QueuedSample> samples;
    SteadyTime first_at{};  // when the oldest queued sample arrived
    bool busy = false;      // a batch of it is in flight
  };

  void Worker(int index);
  int PickReadyLocked(SteadyTime now, SteadyTime* wake) const REQUIRES(mu_);
  void MaybeReshardLocked(SteadyTime now) REQUIRES(mu_);
  void ApplyReshardLocked() REQUIRES(mu_);
  void StartWorkersLocked() REQUIRES(mu_);
  // Sends with retries, `lk` (over mu_) released while sending; returns with it held.
  void SendBatch(std::vector<QueuedSample>& batch, MutexLock& lk) REQUIRES(mu_);

  const std::string name_;
  const std::string url_;
  const QueueConfig config_;
  const std::unique_ptr<WriteSender> sender_;
  const Duration reshard_interval_;

  mutable Mutex mu_;
  CondVar cv_;
  std::vector<Part> parts_ GUARDED_BY(mu_);  // one per shard
  // Written under mu_ (a reshard starts workers) and only while !stopping_; Stop() joins
  // them after setting stopping_, without the lock (a worker it joins may want it).
  std::vector<std::thread> threads_;
  std::vector<bool> alive_ GUARDED_BY(mu_);
  int shards_ GUARDED_BY(mu_) = 0;
  int want_shards_ GUARDED_BY(mu_) = 0;  // != shards_: a reshard waits for in-flight batches
  int in_flight_ GUARDED_BY(mu_) = 0;
  bool failing_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  SteadyTime flush_deadline_ GUARDED_BY(mu_){};
  SteadyTime last_reshard_check_ GUARDED_BY(mu_){};
  std::size_t pending_ GUARDED_BY(mu_) = 0;
  QueueStats stats_ GUARDED_BY(mu_);
  std::vector<std::uint64_t> duration_buckets_ GUARDED_BY(mu_);  // per bound (not cumulative)
  double duration_sum_ GUARDED_BY(mu_) = 0;
  std::uint64_t duration_count_ GUARDED_BY(mu_) = 0;
  std::atomic<std::uint64_t> generation_{0};
};

// The buckets of vigil_remote_storage_sent_batch_duration_seconds (Prometheus's choice).
const std::vector<double>& SentBatchDurationBuckets();

}  // namespace vigil::remote
