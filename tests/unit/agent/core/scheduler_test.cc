#include "agent/core/scheduler.h"

#include <catch2/catch.hpp>
#include <future>
#include <stdexcept>

#include "tests/support/snapshot_util.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

class CountingCollector final : public collectors::Collector {
 public:
  explicit CountingCollector(std::shared_ptr<std::atomic<int>> calls) : calls_(std::move(calls)) {}
  Status Collect(const collectors::CollectContext&, MetricSink& sink) override {
    int n = ++*calls_;
    sink.Gauge("test_calls", "calls so far", {}, n);
    return Status::Ok();
  }

 private:
  std::shared_ptr<std::atomic<int>> calls_;
};

// Blocks until released: a source that hangs (e.g. a SIGSTOPped server).
class HangingCollector final : public collectors::Collector {
 public:
  explicit HangingCollector(std::shared_future<void> release) : release_(std::move(release)) {}
  Status Collect(const collectors::CollectContext&, MetricSink& sink) override {
    release_.wait();
    sink.Gauge("late_value", "", {}, 1);
    return Status::Ok();
  }

 private:
  std::shared_future<void> release_;
};

class ThrowingCollector final : public collectors::Collector {
 public:
  Status Collect(const collectors::CollectContext&, MetricSink&) override {
    throw std::runtime_error("boom");
  }
};

class FailingCollector final : public collectors::Collector {
 public:
  Status Collect(const collectors::CollectContext&, MetricSink& sink) override {
    sink.Gauge("redis_up", "", {}, 0);
    return Status::Unavailable("connection refused");
  }
};

// Waits (real time, bounded) until `done`; generous, so a loaded CI machine does not flake.
bool WaitUntil(const std::function<bool()>& done) {
  for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(5ms);
  return done();
}

// Releases a hung collector when the test ends, however it ends, before the scheduler and
// store it uses are destroyed (declare it after them).
struct Release {
  std::promise<void>& promise;
  bool done = false;
  void Now() {
    if (!done) promise.set_value();
    done = true;
  }
  ~Release() { Now(); }
};

collectors::CollectorSpec Spec(std::string target, Duration interval, Duration timeout,
                               std::function<std::unique_ptr<collectors::Collector>()> make) {
  return collectors::CollectorSpec{"test", std::move(target), interval, timeout, std::move(make)};
}

// A copy of the named instance's state (REQUIRE: it exists).
CollectorState Get(const CollectionStore& store, const std::string& target) {
  for (const CollectorState& s : store.States()) {
    if (s.target == target) return s;
  }
  FAIL("no collector state for " << target);
  return {};
}

TEST_CASE("A hung collector times out, is skipped while busy, and never delays the others",
          "[scheduler]") {
  ManualClock clock(1'000'000);
  CollectionStore store;
  auto calls = std::make_shared<std::atomic<int>>(0);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<collectors::CollectorSpec> specs;
  specs.push_back(
      Spec("ok", 10s, 5s, [calls] { return std::make_unique<CountingCollector>(calls); }));
  specs.push_back(
      Spec("hung", 10s, 5s, [released] { return std::make_unique<HangingCollector>(released); }));
  specs.push_back(Spec("throws", 10s, 5s, [] { return std::make_unique<ThrowingCollector>(); }));
  specs.push_back(Spec("fails", 10s, 5s, [] { return std::make_unique<FailingCollector>(); }));
  Scheduler scheduler(std::move(specs), &store, &clock);
  Release releaser{release};

  scheduler.Tick();  // all four are due at start
  // The healthy ones finish although "hung" holds a worker.
  REQUIRE(WaitUntil([&] { return *calls >= 1; }));
  REQUIRE(*calls == 1);
  REQUIRE(WaitUntil([&] {
    return Get(store, "throws").has_run && Get(store, "fails").has_run && Get(store, "ok").has_run;
  }));
  CHECK(Get(store, "ok").up);
  CollectorState thrown = Get(store, "throws");
  CHECK_FALSE(thrown.up);
  CHECK(thrown.last_error == "collector threw: boom");
  CollectorState failed = Get(store, "fails");
  CHECK_FALSE(failed.up);
  CHECK(failed.last_error == "connection refused");
  // What a failing collector wrote (its own `up` 0) is still exported.
  CHECK(testing::FindValue(*failed.snapshot, "redis_up") == 0);
  CHECK_FALSE(Get(store, "hung").has_run);

  clock.Advance(5s);  // the hung one's timeout
  scheduler.Tick();
  CollectorState hung = Get(store, "hung");
  CHECK(hung.has_run);
  CHECK_FALSE(hung.up);
  CHECK(hung.last_error == "collection timed out after 5s");
  CHECK(hung.timeouts == 1);

  clock.Advance(5s);  // next interval: "hung" is still busy, so it is skipped
  scheduler.Tick();
  REQUIRE(WaitUntil([&] { return *calls >= 2; }));
  CHECK(*calls == 2);
  CHECK(Get(store, "hung").skipped == 1);

  releaser.Now();  // the late result is discarded, the next run starts afresh
  REQUIRE(scheduler.WaitIdle(10s));
  CHECK(testing::FindValue(*Get(store, "hung").snapshot, "late_value") == std::nullopt);
  clock.Advance(10s);
  scheduler.Tick();
  REQUIRE(scheduler.WaitIdle(10s));
  hung = Get(store, "hung");
  CHECK(hung.up);
  CHECK(testing::FindValue(*hung.snapshot, "late_value") == 1);
}

TEST_CASE("Ticks keep their phase and count every missed tick as skipped", "[scheduler]") {
  ManualClock clock(0);
  CollectionStore store;
  auto calls = std::make_shared<std::atomic<int>>(0);
  std::vector<collectors::CollectorSpec> specs;
  specs.push_back(
      Spec("ok", 10s, 5s, [calls] { return std::make_unique<CountingCollector>(calls); }));
  Scheduler scheduler(std::move(specs), &store, &clock);
  scheduler.Tick();
  REQUIRE(scheduler.WaitIdle(10s));
  clock.Advance(3s);
  scheduler.Tick();  // not due yet
  REQUIRE(scheduler.WaitIdle(10s));
  CHECK(*calls == 1);
  clock.Advance(7s);  // t=10s: due
  scheduler.Tick();
  REQUIRE(scheduler.WaitIdle(10s));
  CHECK(*calls == 2);
  auto states = store.States();
  CHECK(states[0].runs == 2);
  CHECK(states[0].skipped == 0);
  CHECK(testing::FindValue(*states[0].snapshot, "test_calls") == 2);
}

TEST_CASE("The real-time loop runs collectors and stops promptly with one still hung",
          "[scheduler]") {
  CollectionStore store;
  auto calls = std::make_shared<std::atomic<int>>(0);
  std::promise<void> never;
  std::shared_future<void> hang = never.get_future().share();
  std::vector<collectors::CollectorSpec> specs;
  specs.push_back(
      Spec("ok", 50ms, 40ms, [calls] { return std::make_unique<CountingCollector>(calls); }));
  specs.push_back(
      Spec("hung", 50ms, 40ms, [hang] { return std::make_unique<HangingCollector>(hang); }));
  auto scheduler = std::make_unique<Scheduler>(std::move(specs), &store, &SystemClock::Get());
  Release releaser{never};
  scheduler->Start();
  CHECK(WaitUntil([&] { return *calls >= 4 && Get(store, "hung").skipped >= 1; }));
  auto t0 = std::chrono::steady_clock::now();
  scheduler->Stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  releaser.Now();  // let the abandoned worker finish before the test ends
  std::this_thread::sleep_for(20ms);
}

}  // namespace
}  // namespace vigil
