#include "agent/core/worker_pool.h"

#include <deque>
#include <thread>
#include <vector>

#include "agent/base/mutex.h"
#include "agent/base/thread_name.h"

namespace vigil {

struct Job {
  std::function<void()> task;
  std::function<void()> then;
};

struct WorkerPool::Shared {
  Mutex mu;
  CondVar work_cv;  // tasks or stop
  CondVar exit_cv;  // a thread left
  std::deque<Job> queue GUARDED_BY(mu);
  std::vector<std::thread> threads GUARDED_BY(mu);
  std::size_t max_threads GUARDED_BY(mu) = 1;
  std::size_t idle GUARDED_BY(mu) = 0;
  std::size_t starting GUARDED_BY(mu) = 0;  // started, not yet waiting for work
  std::size_t live GUARDED_BY(mu) = 0;
  bool stopping GUARDED_BY(mu) = false;
  std::string thread_name GUARDED_BY(mu);
};

namespace {
void WorkerLoop(std::shared_ptr<WorkerPool::Shared> s);
}

WorkerPool::WorkerPool(std::size_t max_threads, std::string thread_name)
    : shared_(std::make_shared<Shared>()) {
  MutexLock lock(shared_->mu);  // uncontended: no worker yet
  shared_->max_threads = max_threads == 0 ? 1 : max_threads;
  shared_->thread_name = std::move(thread_name);
}

WorkerPool::~WorkerPool() { Shutdown(std::chrono::seconds(2)); }

bool WorkerPool::Submit(std::function<void()> task, std::function<void()> then) {
  MutexLock lock(shared_->mu);
  if (shared_->stopping) return false;
  shared_->queue.push_back({std::move(task), std::move(then)});
  // Threads that are idle or still starting will each take one queued task.
  if (shared_->idle + shared_->starting < shared_->queue.size() &&
      shared_->threads.size() < shared_->max_threads) {
    ++shared_->live;
    ++shared_->starting;
    shared_->threads.emplace_back([s = shared_, name = shared_->thread_name] {
      SetCurrentThreadName(name);
      WorkerLoop(s);
    });
  } else {
    shared_->work_cv.NotifyOne();
  }
  return true;
}

std::size_t WorkerPool::Shutdown(std::chrono::milliseconds grace) {
  std::vector<std::thread> threads;
  std::size_t abandoned = 0;
  {
    MutexLock lock(shared_->mu);
    shared_->stopping = true;
    shared_->queue.clear();
    shared_->work_cv.NotifyAll();
    shared_->exit_cv.WaitFor(lock, grace,
                             [&]() REQUIRES(shared_->mu) { return shared_->live == 0; });
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
  MutexLock lock(shared_->mu);
  return shared_->threads.size();
}

namespace {
void WorkerLoop(std::shared_ptr<WorkerPool::Shared> s) {
  MutexLock lock(s->mu);
  --s->starting;
  ++s->idle;
  for (;;) {
    s->work_cv.Wait(lock, [&]() REQUIRES(s->mu) { return s->stopping || !s->queue.empty(); });
    --s->idle;
    if (s->stopping) break;
    Job job = std::move(s->queue.front());
    s->queue.pop_front();
    lock.Unlock();
    job.task();
    job.task = nullptr;  // destroy captures outside the lock
    lock.Lock();
    ++s->idle;
    if (job.then) {
      lock.Unlock();
      job.then();
      job.then = nullptr;
      lock.Lock();
    }
  }
  --s->live;
  s->exit_cv.NotifyAll();
}
}  // namespace

}  // namespace vigil
