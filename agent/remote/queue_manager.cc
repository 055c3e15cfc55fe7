#include "agent/remote/queue_manager.h"

#include <algorithm>
#include <cmath>

#include "agent/base/log.h"
#include "agent/base/mutex.h"
#include "agent/base/thread_name.h"

namespace vigil::remote {

const std::vector<double>& SentBatchDurationBuckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                              2.5,   5,    10,    25,   60,  120,  300};
  return buckets;
}

QueueManager::QueueManager(std::string name, std::string url, QueueConfig config,
                           std::unique_ptr<WriteSender> sender, Duration reshard_interval)
    : name_(std::move(name)),
      url_(std::move(url)),
      config_(config),
      sender_(std::move(sender)),
      reshard_interval_(reshard_interval),
      duration_buckets_(SentBatchDurationBuckets().size(), 0) {
  MutexLock lock(mu_);
  shards_ = want_shards_ = std::max(1, config_.min_shards);
  parts_.resize(static_cast<std::size_t>(shards_));
  threads_.resize(static_cast<std::size_t>(std::max(config_.max_shards, shards_)));
  alive_.resize(threads_.size(), false);
  last_reshard_check_ = std::chrono::steady_clock::now();
  stats_.shards = shards_;
  StartWorkersLocked();
}

QueueManager::~QueueManager() { Stop(Duration(0)); }

void QueueManager::StartWorkersLocked() {
  for (int i = 0; i < shards_; ++i) {
    auto idx = static_cast<std::size_t>(i);
    if (alive_[idx]) continue;
    if (threads_[idx].joinable()) threads_[idx].join();  // it has left Worker already
    alive_[idx] = true;
    threads_[idx] = std::thread([this, i] {
      SetCurrentThreadName("vigil-rw-shard");
      Worker(i);
    });
  }
}

bool QueueManager::Append(std::shared_ptr<const SeriesRef> series, TimestampMs t, double v) {
  MutexLock lock(mu_);
  generation_.fetch_add(1, std::memory_order_relaxed);
  if (stopping_ || pending_ >= config_.capacity) {
    ++stats_.samples_dropped;
    return false;
  }
  Part& p = parts_[series->hash % parts_.size()];
  if (p.samples.empty()) p.first_at = std::chrono::steady_clock::now();
  p.samples.push_back(QueuedSample{std::move(series), t, v});
  ++pending_;
  stats_.highest_timestamp_seconds =
      std::max(stats_.highest_timestamp_seconds, static_cast<double>(t) / 1000.0);
  if (p.samples.size() >= config_.max_samples_per_send) cv_.NotifyAll();
  return true;
}

void QueueManager::CountDropped(std::uint64_t n) {
  MutexLock lock(mu_);
  stats_.samples_dropped += n;
  generation_.fetch_add(1, std::memory_order_relaxed);
}

int QueueManager::PickReadyLocked(SteadyTime now, SteadyTime* wake) const {
  *wake = now + std::min<Duration>(reshard_interval_, Duration(1000));
  if (want_shards_ != shards_ && !stopping_) return -1;  // draining for a reshard
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    const Part& p = parts_[i];
    if (p.busy || p.samples.empty()) continue;
    SteadyTime due = p.first_at + config_.batch_send_deadline;
    if (p.samples.size() >= config_.max_samples_per_send || due <= now || stopping_) {
      return static_cast<int>(i);
    }
    *wake = std::min(*wake, due);
  }
  return -1;
}

void QueueManager::MaybeReshardLocked(SteadyTime now) {
  if (stopping_ || want_shards_ != shards_ || now - last_reshard_check_ < reshard_interval_) {
    return;
  }
  last_reshard_check_ = now;
  auto per_send = static_cast<double>(config_.max_samples_per_send);
  int desired = static_cast<int>(std::ceil(static_cast<double>(pending_) / per_send));
  desired = std::clamp(desired, std::max(1, config_.min_shards), config_.max_shards);
  if (failing_ && desired > shards_) desired = shards_;  // more shards do not help a dead end
  if (desired != shards_) want_shards_ = desired;
}

void QueueManager::ApplyReshardLocked() {
  std::vector<Part> parts(static_cast<std::size_t>(want_shards_));
  SteadyTime now = std::chrono::steady_clock::now();
  for (Part& old : parts_) {
    for (QueuedSample& s : old.samples) {
      Part& p = parts[s.series->hash % parts.size()];
      if (p.samples.empty()) p.first_at = std::min(old.first_at, now);
      p.samples.push_back(std::move(s));
    }
  }
  LogInfo("remote write resharding", {{"remote_name", name_},
                                      {"from", std::to_string(shards_)},
                                      {"to", std::to_string(want_shards_)}});
  parts_ = std::move(parts);
  shards_ = want_shards_;
  stats_.shards = shards_;
  generation_.fetch_add(1, std::memory_order_relaxed);
  StartWorkersLocked();
  cv_.NotifyAll();
}

void QueueManager::Worker(int index) {
  MutexLock lk(mu_);
  while (true) {
    SteadyTime now = std::chrono::steady_clock::now();
    if (stopping_ && (pending_ == 0 || now >= flush_deadline_)) break;
    if (index >= shards_) break;  // resharded away
    MaybeReshardLocked(now);
    if (!stopping_ && want_shards_ != shards_ && in_flight_ == 0) {
      ApplyReshardLocked();
      continue;
    }
    SteadyTime wake;
    int pi = PickReadyLocked(now, &wake);
    if (pi < 0) {
      if (stopping_) wake = std::min(wake, flush_deadline_);
      cv_.WaitUntil(lk, wake);
      continue;
    }
    Part& p = parts_[static_cast<std::size_t>(pi)];
    std::size_t n = std::min(p.samples.size(), config_.max_samples_per_send);
    std::vector<QueuedSample> batch;
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(p.samples.front()));
      p.samples.pop_front();
    }
    p.first_at = now;
    p.busy = true;
    ++in_flight_;
    SendBatch(batch, lk);
    // parts_ may not have changed (resharding waits for in_flight_ == 0).
    parts_[static_cast<std::size_t>(pi)].busy = false;
    --in_flight_;
    pending_ -= batch.size();
    generation_.fetch_add(1, std::memory_order_relaxed);
    cv_.NotifyAll();
  }
  alive_[static_cast<std::size_t>(index)] = false;
}

void QueueManager::SendBatch(std::vector<QueuedSample>& batch, MutexLock& lk) {
  auto n = static_cast<std::uint64_t>(batch.size());
  TimestampMs newest = 0;
  for (const QueuedSample& s : batch) newest = std::max(newest, s.t);
  mu_.unlock();  // `lk` stays the owner: it is relocked before returning
  std::string body = EncodeWriteRequest(batch);
  Duration backoff = config_.min_backoff;
  while (true) {
    auto start = std::chrono::steady_clock::now();
    SendResult r = sender_->Send(body);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    mu_.lock();
    const std::vector<double>& bounds = SentBatchDurationBuckets();
    std::size_t b = 0;
    while (b < bounds.size() && seconds > bounds[b]) ++b;
    if (b < bounds.size()) ++duration_buckets_[b];
    duration_sum_ += seconds;
    ++duration_count_;
    if (r.status >= 200 && r.status < 300) {
      stats_.samples_sent += n;
      ++stats_.batches_sent;
      stats_.bytes_sent += body.size();
      stats_.highest_sent_timestamp_seconds =
          std::max(stats_.highest_sent_timestamp_seconds, static_cast<double>(newest) / 1000.0);
      failing_ = false;
      return;
    }
    bool recoverable = r.status == 0 || r.status == 429 || r.status >= 500;
    if (!recoverable) {
      stats_.samples_failed += n;
      LogWarn("remote write refused a batch; dropped", {{"remote_name", name_},
                                                        {"status", std::to_string(r.status)},
                                                        {"samples", std::to_string(n)},
                                                        {"err", r.error}});
      return;
    }
    failing_ = true;
    Duration wait = r.retry_after.count() >= 0 ? r.retry_after : backoff;
    SteadyTime until = std::chrono::steady_clock::now() + wait;
    LogDebug("remote write failed; retrying", {{"remote_name", name_},
                                               {"status", std::to_string(r.status)},
                                               {"err", r.error},
                                               {"backoff", std::to_string(wait.count()) + "ms"}});
    while (true) {
      SteadyTime now = std::chrono::steady_clock::now();
      if (stopping_ && now >= flush_deadline_) {
        stats_.samples_failed += n;
        LogWarn("remote write stopped while retrying; batch dropped",
                {{"remote_name", name_}, {"samples", std::to_string(n)}});
        return;
      }
      if (now >= until) break;
      cv_.WaitUntil(lk, stopping_ ? std::min(until, flush_deadline_) : until);
    }
    stats_.samples_retried += n;
    generation_.fetch_add(1, std::memory_order_relaxed);
    backoff = std::min(backoff * 2, config_.max_backoff);
    mu_.unlock();  // `lk` stays the owner: it is relocked before returning
  }
}

void QueueManager::Stop(Duration flush) {
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      // An endpoint that is failing gets no flush time: shutdown is not delayed by it.
      flush_deadline_ = std::chrono::steady_clock::now() + (failing_ ? Duration(0) : flush);
    }
    cv_.NotifyAll();
  }
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    if (threads_[i].joinable()) threads_[i].join();
  }
  MutexLock lock(mu_);
  std::size_t left = 0;
  for (Part& p : parts_) {
    left += p.samples.size();
    p.samples.clear();
  }
  if (left > 0) {
    stats_.samples_dropped += left;
    pending_ -= left;
    LogWarn("remote write stopped with samples pending; dropped",
            {{"remote_name", name_}, {"samples", std::to_string(left)}});
  }
}

QueueStats QueueManager::Stats() const {
  MutexLock lock(mu_);
  QueueStats s = stats_;
  s.pending = pending_;
  return s;
}

void QueueManager::Collect(MetricSink& sink) const {
  QueueStats s;
  std::vector<std::pair<double, double>> buckets;
  double sum;
  double count;
  {
    MutexLock lock(mu_);
    s = stats_;
    s.pending = pending_;
    double cumulative = 0;
    const std::vector<double>& bounds = SentBatchDurationBuckets();
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      cumulative += static_cast<double>(duration_buckets_[i]);
      buckets.emplace_back(bounds[i], cumulative);
    }
    sum = duration_sum_;
    count = static_cast<double>(duration_count_);
  }
  Labels l{{"remote_name", name_}, {"url", url_}};
  sink.Counter("vigil_remote_storage_samples_total", "Samples sent to remote storage and accepted.",
               l, static_cast<double>(s.samples_sent));
  sink.Counter("vigil_remote_storage_samples_failed_total",
               "Samples remote storage refused for good (4xx other than 429), or abandoned.", l,
               static_cast<double>(s.samples_failed));
  sink.Counter("vigil_remote_storage_samples_retried_total",
               "Samples sent again after a recoverable error (network, 5xx, 429).", l,
               static_cast<double>(s.samples_retried));
  sink.Counter("vigil_remote_storage_samples_dropped_total",
               "Samples dropped before sending: queue full, write_relabel_configs, or shutdown.", l,
               static_cast<double>(s.samples_dropped));
  sink.Counter("vigil_remote_storage_sent_batches_total", "WriteRequests remote storage accepted.",
               l, static_cast<double>(s.batches_sent));
  sink.Counter("vigil_remote_storage_bytes_total",
               "Compressed bytes of the WriteRequests remote storage accepted.", l,
               static_cast<double>(s.bytes_sent));
  sink.Gauge("vigil_remote_storage_samples_pending", "Samples queued or in flight.", l,
             static_cast<double>(s.pending));
  sink.Gauge("vigil_remote_storage_highest_timestamp_in_seconds",
             "Newest sample timestamp queued for this remote storage.", l,
             s.highest_timestamp_seconds);
  sink.Gauge("vigil_remote_storage_queue_highest_sent_timestamp_seconds",
             "Newest sample timestamp remote storage accepted.", l,
             s.highest_sent_timestamp_seconds);
  sink.Gauge("vigil_remote_storage_shards", "Shards sending in parallel.", l,
             static_cast<double>(s.shards));
  sink.Histogram("vigil_remote_storage_sent_batch_duration_seconds",
                 "Duration of each send attempt of a batch.", l, buckets, sum, count);
}

}  // namespace vigil::remote
