// WorkerPool: runs tasks on threads it creates on demand, up to a maximum.
//
// A task that hangs holds its thread and no other: when every thread is busy and a task
// arrives, a new thread starts (until max_threads; past it tasks queue). Shutdown() waits a
// bounded time for running tasks and then abandons (detaches) threads still stuck in one;
// such threads only touch state they share by shared_ptr. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace vigil {

class WorkerPool {
 public:
  // `thread_name` names each thread (SetCurrentThreadName).
  WorkerPool(std::size_t max_threads, std::string thread_name);
  ~WorkerPool();  // Shutdown(2s)
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False after Shutdown(). `then`, if given, runs on the same thread after `task`, once the
  // thread counts itself idle again: a caller that learns from `then` that it may submit again
  // (the scheduler: "this collector is no longer running") never starts a thread for it, so
  // the pool holds at most as many threads as tasks were ever in flight at once.
  bool Submit(std::function<void()> task, std::function<void()> then = {});
  // Stops accepting tasks, drops queued ones, waits up to `grace` for running ones.
  // Returns the number of threads abandoned still running a task.
  std::size_t Shutdown(std::chrono::milliseconds grace);
  std::size_t thread_count() const;

  struct Shared;  // state the threads share; public only for the worker loop

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace vigil
