#include "agent/core/worker_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace vigil {
namespace {

using namespace std::chrono_literals;

// `chains` independent tasks, each resubmitted from its own `then` until `rounds` have run:
// the way the scheduler resubmits a collector once it is no longer running.
void RunChains(WorkerPool& pool, int chains, int rounds) {
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  std::atomic<int> runs{0};
  std::atomic<int> refused{0};  // Catch's assertions are not thread-safe: counted, checked below
  std::function<void(int)> submit = [&](int left) {
    bool ok = pool.Submit([&runs] { runs.fetch_add(1); },
                          [&, left] {
                            if (left > 1) {
                              submit(left - 1);
                              return;
                            }
                            std::lock_guard<std::mutex> lock(mu);
                            ++finished;
                            cv.notify_all();
                          });
    if (!ok) refused.fetch_add(1);
  };
  for (int i = 0; i < chains; ++i) submit(rounds);
  std::unique_lock<std::mutex> lock(mu);
  REQUIRE(cv.wait_for(lock, 30s, [&] { return finished == chains; }));
  CHECK(refused.load() == 0);
  CHECK(runs.load() == chains * rounds);
}

TEST_CASE("A task resubmitted once its worker is idle again never grows the pool",
          "[worker_pool]") {
  WorkerPool pool(32, "vigil-test");
  RunChains(pool, 1, 2000);
  CHECK(pool.thread_count() == 1);
  RunChains(pool, 4, 500);
  CHECK(pool.thread_count() <= 4);
  CHECK(pool.Shutdown(1s) == 0);
  CHECK_FALSE(pool.Submit([] {}));
}

TEST_CASE("A hung task holds one thread, the others start new ones up to the maximum",
          "[worker_pool]") {
  WorkerPool pool(2, "vigil-test");
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> ran{0};
  auto hang = [&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    ran.fetch_add(1);
  };
  REQUIRE(pool.Submit(hang));
  REQUIRE(pool.Submit(hang));
  REQUIRE(pool.Submit([&] { ran.fetch_add(1); }));  // queued: both threads are held
  std::this_thread::sleep_for(50ms);
  CHECK(pool.thread_count() == 2);
  CHECK(ran.load() == 0);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  for (int i = 0; i < 200 && ran.load() < 3; ++i) std::this_thread::sleep_for(10ms);
  CHECK(ran.load() == 3);
  CHECK(pool.thread_count() == 2);
}

TEST_CASE("Shutdown abandons a thread stuck in its task after the grace period", "[worker_pool]") {
  auto stuck = std::make_shared<std::atomic<bool>>(true);
  WorkerPool pool(4, "vigil-test");
  REQUIRE(pool.Submit([stuck] {
    while (stuck->load()) std::this_thread::sleep_for(5ms);
  }));
  std::this_thread::sleep_for(20ms);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(pool.Shutdown(100ms) == 1);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  stuck->store(false);  // the abandoned thread ends on its own; it only holds shared state
}

}  // namespace
}  // namespace vigil
