#include "agent/core/scheduler.h"

#include <algorithm>
#include <exception>

#include "agent/base/duration.h"
#include "agent/base/log.h"
#include "agent/base/mutex.h"
#include "agent/base/thread_name.h"

namespace vigil {

struct Scheduler::Shared {
  Mutex mu;
  CondVar idle_cv;
  std::size_t running GUARDED_BY(mu) = 0;
  CollectionStore* store;
};

struct Scheduler::Instance {
  collectors::CollectorSpec spec;
  std::unique_ptr<collectors::Collector> collector;
  CollectionStore::Key key;
  // Below: guarded by Shared::mu (another object, so the analysis cannot check it).
  TimestampMs next_due = 0;
  bool running = false;
  bool timed_out = false;
  TimestampMs started_at = 0;
};

Scheduler::Scheduler(std::vector<collectors::CollectorSpec> specs, CollectionStore* store,
                     const Clock* clock, std::size_t max_threads)
    : clock_(clock), shared_(std::make_shared<Shared>()), pool_(max_threads, "vigil-collect") {
  shared_->store = store;
  TimestampMs now = clock_->Now();
  std::set<CollectionStore::Key> keys;
  for (collectors::CollectorSpec& spec : specs) {
    auto inst = std::make_shared<Instance>();
    inst->key = {spec.kind, spec.target};
    inst->collector = spec.make();
    inst->spec = std::move(spec);
    inst->next_due = now;
    keys.insert(inst->key);
    store->Update(inst->key, [](CollectorState&) {});
    instances_.push_back(std::move(inst));
  }
  store->Retain(keys);
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  loop_ = std::thread([this] {
    SetCurrentThreadName("vigil-sched");
    MutexLock lock(loop_mu_);
    while (!stop_) {
      lock.Unlock();
      Tick();
      TimestampMs wake = NextWake();
      lock.Lock();
      TimestampMs wait_ms = std::clamp<TimestampMs>(wake - clock_->Now(), 1, 1000);
      loop_cv_.WaitFor(lock, std::chrono::milliseconds(wait_ms),
                       [&]() REQUIRES(loop_mu_) { return stop_; });
    }
  });
}

void Scheduler::Stop() {
  {
    MutexLock lock(loop_mu_);
    stop_ = true;
  }
  loop_cv_.NotifyAll();
  if (loop_.joinable()) loop_.join();
  std::size_t abandoned = pool_.Shutdown(std::chrono::seconds(2));
  if (abandoned > 0) {
    LogWarn("collections still running at stop were abandoned",
            {{"count", std::to_string(abandoned)}});
  }
}

TimestampMs Scheduler::NextWake() const {
  MutexLock lock(shared_->mu);
  TimestampMs wake = clock_->Now() + 1000;
  for (const auto& inst : instances_) {
    wake = std::min(wake, inst->next_due);
    if (inst->running && !inst->timed_out) {
      wake = std::min(wake, inst->started_at + inst->spec.timeout.count());
    }
  }
  return wake;
}

void Scheduler::Tick() {
  TimestampMs now = clock_->Now();
  std::vector<std::shared_ptr<Instance>> due;
  std::vector<std::shared_ptr<Instance>> expired;
  std::vector<std::pair<std::shared_ptr<Instance>, TimestampMs>> skipped;
  {
    MutexLock lock(shared_->mu);
    for (const auto& inst : instances_) {
      if (inst->running && !inst->timed_out &&
          now >= inst->started_at + inst->spec.timeout.count()) {
        inst->timed_out = true;
        expired.push_back(inst);
      }
      if (now < inst->next_due) continue;
      // Keep the phase: the next tick is the first multiple of the interval after now.
      TimestampMs interval = inst->spec.interval.count();
      TimestampMs missed = (now - inst->next_due) / interval;
      inst->next_due += (missed + 1) * interval;
      if (inst->running) {
        skipped.emplace_back(inst, 1 + missed);
        continue;
      }
      inst->running = true;
      inst->timed_out = false;
      inst->started_at = now;
      ++shared_->running;
      due.push_back(inst);
    }
  }
  // Outside shared_->mu: the store's listener ingests into the window.
  for (const auto& [inst, n] : skipped) {
    shared_->store->Update(inst->key, [n = n](CollectorState& s) { s.skipped += n; });
  }
  for (const auto& inst : expired) {
    std::string error = "collection timed out after " + FormatDuration(inst->spec.timeout);
    LogWarn("collector timed out", {{"collector", inst->spec.kind},
                                    {"target", inst->spec.target},
                                    {"timeout", FormatDuration(inst->spec.timeout)}});
    shared_->store->Update(inst->key, [&](CollectorState& s) {
      s.up = false;
      s.has_run = true;
      s.last_error = error;
      s.last_run = inst->started_at;
      s.duration_seconds = static_cast<double>(inst->spec.timeout.count()) / 1000.0;
      s.snapshot = std::make_shared<Snapshot>();
      ++s.timeouts;
      ++s.failures;
    });
  }
  for (const auto& inst : due) Dispatch(inst, now);
}

void Scheduler::Dispatch(const std::shared_ptr<Instance>& inst, TimestampMs now) {
  std::shared_ptr<Shared> shared = shared_;
  auto run = [inst, shared, now] {
    collectors::CollectContext ctx{now, now + inst->spec.timeout.count()};
    MetricSink sink;
    Status status;
    auto t0 = std::chrono::steady_clock::now();
    try {
      status = inst->collector->Collect(ctx, sink);
    } catch (const std::exception& e) {
      status = Status::Internal(std::string("collector threw: ") + e.what());
    } catch (...) {
      status = Status::Internal("collector threw a non-exception");
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bool discard;
    {
      MutexLock lock(shared->mu);
      discard = inst->timed_out;
    }
    if (!discard) {
      if (!status.ok()) {
        LogDebug("collection failed", {{"collector", inst->spec.kind},
                                       {"target", inst->spec.target},
                                       {"err", status.message()}});
      }
      auto attachments =
          std::make_shared<std::map<std::string, std::string>>(sink.TakeAttachments());
      auto snapshot = std::make_shared<Snapshot>(sink.Take());
      shared->store->Update(inst->key, [&](CollectorState& s) {
        s.up = status.ok();
        s.has_run = true;
        s.duration_seconds = seconds;
        s.last_error = status.ok() ? "" : status.message();
        s.last_run = now;
        if (status.ok()) s.last_success = now;
        ++s.runs;
        if (!status.ok()) ++s.failures;
        s.snapshot = std::move(snapshot);
        s.attachments = std::move(attachments);
      });
    }
  };
  // After the worker is idle again: the next tick may resubmit this instance at once.
  auto done = [inst, shared] {
    MutexLock lock(shared->mu);
    inst->running = false;
    --shared->running;
    shared->idle_cv.NotifyAll();
  };
  if (!pool_.Submit(std::move(run), std::move(done))) {
    MutexLock lock(shared_->mu);
    inst->running = false;
    --shared_->running;
  }
}

bool Scheduler::WaitIdle(std::chrono::milliseconds max) {
  MutexLock lock(shared_->mu);
  return shared_->idle_cv.WaitFor(lock, max,
                                  [&]() REQUIRES(shared_->mu) { return shared_->running == 0; });
}

}  // namespace vigil
