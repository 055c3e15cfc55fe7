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

namespace vigil {

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t max_threads);
  ~WorkerPool();  // Shutdown(2s)
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False after Shutdown().
  bool Submit(std::function<void()> task);
  // Stops accepting tasks, drops queued ones, waits up to `grace` for running ones.
  // Returns the number of threads abandoned still running a task.
  std::size_t Shutdown(std::chrono::milliseconds grace);
  std::size_t thread_count() const;

  struct Shared;  // state the threads share; public only for the worker loop

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace vigil
