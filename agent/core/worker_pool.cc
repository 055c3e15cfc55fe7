#include "agent/core/worker_pool.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil {

struct WorkerPool::Shared {
  std::mutex mu;
  std::condition_variable work_cv;  // tasks or stop
  std::condition_variable exit_cv;  // a thread left
  std::deque<std::function<void()>> queue;
  std::vector<std::thread> threads;
  std::size_t max_threads = 1;
  std::size_t idle = 0;
  std::size_t live = 0;
  bool stopping = false;
};

namespace {
void WorkerLoop(std::shared_ptr<WorkerPool::Shared> s);
}

WorkerPool::WorkerPool(std::size_t max_threads) : shared_(std::make_shared<Shared>()) {
  shared_->max_threads = max_threads == 0 ? 1 : max_threads;
}

WorkerPool::~WorkerPool() { Shutdown(std::chrono::seconds(2)); }

bool WorkerPool::Submit(std::function<void()> task) {
  std::lock_guard lock(shared_->mu);
  if (shared_->stopping) return false;
  shared_->queue.push_back(std::move(task));
  if (shared_->idle < shared_->queue.size() && shared_->threads.size() < shared_->max_threads) {
    ++shared_->live;
    shared_->threads.emplace_back([s = shared_] { WorkerLoop(s); });
  } else {
    shared_->work_cv.notify_one();
  }
  return true;
}

std::size_t WorkerPool::Shutdown(std::chrono::milliseconds grace) {
  std::vector<std::thread> threads;
  std::size_t abandoned = 0;
  {
    std::unique_lock lock(shared_->mu);
    shared_->stopping = true;
    shared_->queue.clear();
    shared_->work_cv.notify_all();
    shared_->exit_cv.wait_for(lock, grace, [&] { return shared_->live == 0; });
    abandoned = shared_->live;
    threads.swap(shared_->threads);
  }
  for (std::thread& t : threads) {
    if (abandoned == 0) {
      t.join();
    } else {
      t.detach();
    }
  }
  return abandoned;
}

std::size_t WorkerPool::thread_count() const {
  std::lock_guard lock(shared_->mu);
  return shared_->threads.size();
}

namespace {
void WorkerLoop(std::shared_ptr<WorkerPool::Shared> s) {
  std::unique_lock lock(s->mu);
  for (;;) {
    ++s->idle;
    s->work_cv.wait(lock, [&] { return s->stopping || !s->queue.empty(); });
    --s->idle;
    if (s->stopping) break;
    std::function<void()> task = std::move(s->queue.front());
    s->queue.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // destroy captures outside the lock
    lock.lock();
  }
  --s->live;
  s->exit_cv.notify_all();
}
}  // namespace

}  // namespace vigil
