// How long ingestion waits for the series window's lock while queries keep reading it.
//
// Part 1 (the lock alone): R reader threads take the shared lock back to back, each hold as
// long as one Select over the window below takes; a writer takes the exclusive lock every
// 20 ms and records how long it waited (a run ends after SECONDS even if the writer is still
// starved). std::shared_mutex (glibc: readers first) against
// vigil::SharedMutex (writers first), same process, same load.
// Part 2 (the real window): SeriesWindow::Ingest of a 2,000-series collection every 100 ms,
// with 0 and then R threads running Select({__name__=~"m_.*"}) in a loop; Ingest latency.
//   vigil_window_lock_bench [READERS (3)] [SECONDS per run (3)]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/base/shared_mutex.h"
#include "agent/window/series_window.h"

namespace vigil {
namespace {

using Clock = std::chrono::steady_clock;

struct Waits {
  double p50 = 0, p99 = 0, max = 0;
  std::size_t n = 0;
};

Waits Summarize(std::vector<double> ms) {
  Waits w;
  if (ms.empty()) return w;
  std::sort(ms.begin(), ms.end());
  w.n = ms.size();
  w.p50 = ms[ms.size() / 2];
  w.p99 = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  w.max = ms.back();
  return w;
}

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void BusyFor(double ms) {
  const auto end = Clock::now() + std::chrono::duration<double, std::milli>(ms);
  while (Clock::now() < end) {
  }
}

template <class Mutex>
Waits LockOnly(int readers, double hold_ms, int seconds) {
  Mutex mu;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < readers; ++i) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        std::shared_lock lock(mu);
        BusyFor(hold_ms);
      }
    });
  }
  std::vector<double> waits;
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  // Bounded: when the time is up the readers stop, so a starved writer gets the lock then
  // (its wait is cut there and the max reads as "at least").
  std::thread timer([&] {
    while (Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stop = true;
  });
  while (Clock::now() < end && waits.size() < 10000) {
    const auto t0 = Clock::now();
    { std::unique_lock lock(mu); }
    waits.push_back(MsSince(t0));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  timer.join();
  for (auto& t : threads) t.join();
  return Summarize(std::move(waits));
}

Snapshot Collection(int series, double value) {
  MetricSink sink;
  for (int i = 0; i < series; ++i) {
    sink.Counter(
        "m_requests_total", "",
        {{"instance", "i" + std::to_string(i % 20)}, {"route", "/r" + std::to_string(i / 20)}},
        value + i);
  }
  return sink.Take();
}

Waits RealWindow(int readers, int seconds, double* select_ms) {
  SeriesWindow window(std::chrono::minutes(15));
  TimestampMs t = 1'700'000'000'000;
  for (int i = 0; i < 30; ++i, t += 100) window.Ingest("bench", Collection(2000, i), t);
  auto matcher =
      promql::LabelMatcher::Make(promql::LabelMatcher::Type::kRegexMatch, "__name__", "m_.*");
  if (!matcher.ok()) std::abort();
  const std::vector<promql::LabelMatcher> matchers{*matcher};
  {
    const auto t0 = Clock::now();
    auto r = window.Select(matchers, 0, t);
    if (select_ms != nullptr) *select_ms = MsSince(t0);
    if (!r.ok() || r->size() != 2000) std::abort();
  }
  std::atomic<bool> stop{false};
  std::atomic<TimestampMs> now{t};
  std::vector<std::thread> threads;
  for (int i = 0; i < readers; ++i) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        auto r = window.Select(matchers, now.load() - 60'000, now.load());
        if (!r.ok()) std::abort();
      }
    });
  }
  std::vector<double> waits;
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  for (int i = 30; Clock::now() < end && i < 100000; ++i) {
    Snapshot s = Collection(2000, i);
    t += 100;
    const auto t0 = Clock::now();
    window.Ingest("bench", s, t);
    waits.push_back(MsSince(t0));
    now = t;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop = true;
  for (auto& th : threads) th.join();
  return Summarize(std::move(waits));
}

void Row(const char* what, const Waits& w) {
  std::printf("| %s | %zu | %.3f | %.3f | %.3f |\n", what, w.n, w.p50, w.p99, w.max);
}

}  // namespace
}  // namespace vigil

int main(int argc, char** argv) {
  using namespace vigil;
  const int readers = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  const int seconds = argc > 2 ? std::clamp(std::atoi(argv[2]), 1, 60) : 3;
  double select_ms = 0;
  Waits alone = RealWindow(0, seconds, &select_ms);
  Waits busy = RealWindow(readers, seconds, nullptr);
  Waits stdmu = LockOnly<std::shared_mutex>(readers, select_ms, seconds);
  Waits ours = LockOnly<SharedMutex>(readers, select_ms, seconds);
  std::printf("window: 2,000 series, one Select of all of them takes %.3f ms; %d readers\n\n",
              select_ms, readers);
  std::printf("| writer wait (ms) | n | p50 | p99 | max |\n|---|---|---|---|---|\n");
  Row("lock only, std::shared_mutex", stdmu);
  Row("lock only, vigil::SharedMutex", ours);
  Row("SeriesWindow::Ingest, no readers", alone);
  Row("SeriesWindow::Ingest, readers", busy);
  std::printf("\nmax wait std::shared_mutex / SharedMutex: %.1fx\n",
              ours.max > 0 ? stdmu.max / ours.max : 0.0);
  std::printf("Ingest p99 with readers / without: %.1fx\n",
              alone.p99 > 0 ? busy.p99 / alone.p99 : 0.0);
  return 0;
}
