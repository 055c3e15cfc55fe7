// Leaker against this very process: /proc/self/status shows what it holds.
#include "service/leak.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "agent/base/log.h"
#include "tests/support/subprocess.h"

namespace vigil::shop {
namespace {

using std::chrono::milliseconds;
using vigil::testing::WaitFor;

constexpr double kMiB = 1024.0 * 1024.0;

// A numeric field of /proc/self/status ("VmRSS:" in kB, "Threads:").
double StatusField(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::strtod(line.c_str() + field.size(), nullptr);
  }
  FAIL("no " << field << " in /proc/self/status");
  return 0;
}

double RssBytes() { return StatusField("VmRSS:") * 1024.0; }
int Threads() { return static_cast<int>(StatusField("Threads:")); }

// The thread count before a test leaks. A sanitizer runtime (TSan) starts a helper thread of its
// own at the first thread creation, so one thread is created and joined first.
int ThreadsBefore() {
  std::thread([] {}).join();
  return Threads();
}

TEST_CASE("leaked memory is resident and Release frees it", "[leak]") {
  Leaker leaker;
  const double before = RssBytes();
  REQUIRE(leaker.LeakMib(8) == 8);
  const double leaked = RssBytes();
  CHECK(leaked - before >= 7 * kMiB);
  CHECK(leaker.Snapshot().leaked_mib == 8);
  REQUIRE(leaker.LeakMib(2) == 2);  // added to what is held
  CHECK(leaker.Snapshot().leaked_mib == 10);

  leaker.Release();
  CHECK(leaker.Snapshot().leaked_mib == 0);
  CHECK(leaked - RssBytes() >= 7 * kMiB);
}

TEST_CASE("leaked threads stay alive until Release joins them", "[leak]") {
  Leaker leaker;
  const int before = ThreadsBefore();
  REQUIRE(leaker.LeakThreads(20) == 20);
  CHECK(Threads() == before + 20);
  CHECK(leaker.Snapshot().leaked_threads == 20);
  std::this_thread::sleep_for(milliseconds(100));
  CHECK(Threads() == before + 20);  // parked, not finished

  leaker.Release();
  CHECK(leaker.Snapshot().leaked_threads == 0);
  // A joined thread can linger in the count for a moment while the kernel reaps it.
  CHECK(WaitFor([&] { return Threads() == before; }, milliseconds(2000)));

  REQUIRE(leaker.LeakThreads(3) == 3);  // leaking works again after a release
  CHECK(Threads() == before + 3);
}

TEST_CASE("a destroyed Leaker ends its threads and unmaps its memory", "[leak]") {
  const int before = ThreadsBefore();
  const double rss_before = RssBytes();
  {
    Leaker leaker;
    leaker.LeakThreads(5);
    leaker.LeakMib(8);
    leaker.SetRates(60, 60);  // starts the ticker too
    CHECK(Threads() == before + 6);
  }
  CHECK(WaitFor([&] { return Threads() == before; }, milliseconds(2000)));
  CHECK(RssBytes() - rss_before < 4 * kMiB);
}

TEST_CASE("a rate of 600 threads per minute adds about 10 threads a second", "[leak]") {
  Leaker leaker;
  leaker.SetRates(std::nullopt, 600);
  std::this_thread::sleep_for(milliseconds(1500));
  const std::int64_t grown = leaker.Snapshot().leaked_threads;
  CHECK(grown >= 8);
  CHECK(grown <= 22);
  CHECK(leaker.Snapshot().threads_per_minute == 600);
  CHECK(leaker.Snapshot().leaked_mib == 0);

  leaker.SetRates(std::nullopt, 0);  // stops the growth, keeps what is held
  const std::int64_t held = leaker.Snapshot().leaked_threads;
  CHECK(held >= grown);
  std::this_thread::sleep_for(milliseconds(1200));
  CHECK(leaker.Snapshot().leaked_threads == held);
  leaker.Release();
}

TEST_CASE("rates below one per tick accumulate their fractions", "[leak]") {
  // 60 per minute at 10 ticks a second is 0.1 per tick: dropping the fraction would leak nothing.
  LeakerOptions options;
  options.tick = milliseconds(100);
  Leaker leaker(options);
  leaker.SetRates(60, 60);
  std::this_thread::sleep_for(milliseconds(2300));
  const LeakState s = leaker.Snapshot();
  CHECK(s.leaked_mib >= 1);
  CHECK(s.leaked_mib <= 4);
  CHECK(s.leaked_threads >= 1);
  CHECK(s.leaked_threads <= 4);
  leaker.Release();
  CHECK(leaker.Snapshot().mib_per_minute == 0);
  CHECK(leaker.Snapshot().threads_per_minute == 0);
}

TEST_CASE("the limits cap what is held, leaked at once or by rate", "[leak]") {
  LeakerOptions options;
  options.tick = milliseconds(50);
  options.max_mib = 3;
  options.max_threads = 4;
  Leaker leaker(options);
  CHECK(leaker.LeakMib(5) == 3);
  CHECK(leaker.LeakMib(1) == 0);
  CHECK(leaker.LeakThreads(10) == 4);
  CHECK(leaker.LeakThreads(1) == 0);
  leaker.SetRates(6000, 6000);
  std::this_thread::sleep_for(milliseconds(300));
  const LeakState s = leaker.Snapshot();
  CHECK(s.leaked_mib == 3);
  CHECK(s.leaked_threads == 4);
  leaker.Release();
  CHECK(leaker.LeakMib(2) == 2);
}

TEST_CASE("a failed pthread_create stops the thread leak with one warning", "[leak]") {
  LeakerOptions options;
  options.thread_stack_bytes = std::size_t{1} << 47;  // more than the address space
  std::string log;
  SetLogSink(&log);
  {
    Leaker leaker(options);
    leaker.SetRates(std::nullopt, 600);
    CHECK(leaker.LeakThreads(3) == 0);
    CHECK(leaker.LeakThreads(3) == 0);
    CHECK(leaker.Snapshot().threads_per_minute == 0);
    CHECK(leaker.Snapshot().leaked_threads == 0);
    CHECK(leaker.LeakMib(1) == 1);  // memory is a separate leak
  }
  SetLogSink(nullptr);
  INFO(log);
  const std::string warning = "thread leak stopped: pthread_create failed";
  const std::size_t first = log.find(warning);
  CHECK(first != std::string::npos);
  CHECK(log.find(warning, first + 1) == std::string::npos);
}

}  // namespace
}  // namespace vigil::shop
