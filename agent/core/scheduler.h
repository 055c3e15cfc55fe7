// Scheduler: runs every collector instance on its own interval, in parallel, with timeouts.
//
// Tick() is one scheduling step at clock.Now(): it starts the instances that are due (an
// instance still busy from its last tick is skipped and counted instead) and fails those that
// overran their timeout (up=0 at once; whatever the late run returns is discarded). Start()
// runs Tick() on a thread of its own in real time; tests call Tick() by hand with a
// ManualClock. A hung or throwing collector never delays the others or the exporter.
// Thread-safe.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/mutex.h"
#include "agent/core/collection_store.h"
#include "agent/core/worker_pool.h"
#include "collectors/collector.h"

namespace vigil {

class Scheduler {
 public:
  // REQUIRES: store and clock outlive the scheduler.
  Scheduler(std::vector<collectors::CollectorSpec> specs, CollectionStore* store,
            const Clock* clock, std::size_t max_threads = 32);
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void Start();
  // Stops ticking and waits (bounded) for running collections.
  void Stop();
  void Tick();
  // True once no collection is running, waiting at most `max` of real time (tests).
  bool WaitIdle(std::chrono::milliseconds max);
  std::size_t worker_threads() const { return pool_.thread_count(); }

 private:
  struct Instance;
  struct Shared;
  void Dispatch(const std::shared_ptr<Instance>& inst, TimestampMs now);
  TimestampMs NextWake() const;

  const Clock* clock_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::shared_ptr<Instance>> instances_;
  WorkerPool pool_;
  Mutex loop_mu_;
  CondVar loop_cv_;
  bool stop_ GUARDED_BY(loop_mu_) = false;
  std::thread loop_;
};

}  // namespace vigil
