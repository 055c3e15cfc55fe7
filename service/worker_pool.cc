#include "service/worker_pool.h"

namespace vigil::shop {

WorkerPool::WorkerPool(std::size_t threads, std::size_t max_queued, WorkerStats* stats)
    : max_queued_(max_queued), stats_(stats) {
  stats_->threads = threads;
  stats_->max_queued = max_queued;
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  bool joined = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    joined = shutdown_;
  }
  if (!joined) shutdown();
}

void WorkerPool::enqueue(std::function<void()> fn) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [&] { return jobs_.size() < max_queued_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    stats_->queued = jobs_.size();
  }
  work_cv_.notify_one();
}

void WorkerPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_) return;
    shutdown_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void WorkerPool::Run() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
      if (jobs_.empty()) return;  // shutdown and nothing left
      fn = std::move(jobs_.front());
      jobs_.pop_front();
      stats_->queued = jobs_.size();
    }
    space_cv_.notify_one();
    stats_->busy.fetch_add(1, std::memory_order_relaxed);
    fn();
    stats_->busy.fetch_sub(1, std::memory_order_relaxed);
  }
}

}  // namespace vigil::shop
