// WorkerPool: the HTTP server's bounded worker pool (an httplib::TaskQueue).
//
// `threads` workers serve connections; up to `max_queued` accepted connections wait for a
// worker. When the queue is full, enqueue() blocks the accept loop, so further clients wait in
// the kernel's listen backlog instead of growing memory. Busy and queued counts are published
// through a WorkerStats the server owns (httplib deletes the queue when listen() returns).
//
// Thread-safe.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::shop {

struct WorkerStats {
  std::atomic<std::size_t> busy{0};
  std::atomic<std::size_t> queued{0};
  std::atomic<std::size_t> threads{0};
  std::atomic<std::size_t> max_queued{0};
};

class WorkerPool final : public httplib::TaskQueue {
 public:
  // `stats` must outlive the pool.
  WorkerPool(std::size_t threads, std::size_t max_queued, WorkerStats* stats);
  ~WorkerPool() override;

  void enqueue(std::function<void()> fn) override;
  // Runs the queued work, then joins the workers.
  void shutdown() override;

 private:
  void Run();

  const std::size_t max_queued_;
  WorkerStats* const stats_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable space_cv_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mu_)
  bool shutdown_ = false;                   // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace vigil::shop
