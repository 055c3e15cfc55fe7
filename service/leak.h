// Leaker: an injectable memory and thread leak, so the process alert drills (ProcessMemoryHigh,
// ProcessMemoryGrowing, ProcessThreadsHigh, ProcessThreadsGrowing) can fire against shop.
//
// Memory is leaked in 1 MiB anonymous mappings with every page written, so it counts in RSS.
// Threads are created with a small stack and park on a condition variable until Release() or
// destruction, which joins them. A steady rate (per minute) is leaked by a background thread
// that ticks about once per second and keeps fractional remainders; it starts on the first
// nonzero rate. Totals are clamped to the limits. A failed mmap or pthread_create logs one
// warning and stops that kind of leak (its rate drops to 0) instead of crashing.
//
// Thread-safe. Snapshot() reads atomics only (it never waits for a leak in progress).
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

namespace vigil::shop {

struct LeakerOptions {
  std::chrono::milliseconds tick{1000};
  std::int64_t max_mib = 4096;
  std::int64_t max_threads = 20000;
  std::size_t thread_stack_bytes = 64 * 1024;  // raised to PTHREAD_STACK_MIN when below it
};

struct LeakState {
  std::int64_t mib_per_minute = 0;
  std::int64_t threads_per_minute = 0;
  std::int64_t leaked_mib = 0;
  std::int64_t leaked_threads = 0;
};

class Leaker {
 public:
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

  explicit Leaker(LeakerOptions options = {});
  ~Leaker();  // stops the ticker, then Release()
  Leaker(const Leaker&) = delete;
  Leaker& operator=(const Leaker&) = delete;

  // Sets the steady rates; nullopt leaves a rate unchanged, 0 stops that growth.
  // REQUIRES: rates >= 0.
  void SetRates(std::optional<std::int64_t> mib_per_minute,
                std::optional<std::int64_t> threads_per_minute);
  // Leaks now, on top of what is held, up to the limits. Return how many were added.
  std::int64_t LeakMib(std::int64_t mib);
  std::int64_t LeakThreads(std::int64_t count);
  // Frees all leaked memory, ends and joins all leaked threads, and sets both rates to 0.
  void Release();

  LeakState Snapshot() const;

 private:
  using Clock = std::chrono::steady_clock;

  // The steady growth of one kind of leak. All but per_minute are GUARDED_BY(mu_);
  // per_minute is written under mu_ and read by Snapshot() without it.
  struct Growth {
    std::atomic<std::int64_t> per_minute{0};
    double owed = 0;      // the fraction not yet leaked
    bool warned = false;  // a failure was logged since the last Release()

    void Set(std::int64_t rate);
    // Adds what `minutes` at the rate owe (a late tick owes at most one minute's worth) and
    // returns the whole units to leak now.
    std::int64_t Accrue(double minutes);
    // After a failed allocation: the rate drops to 0; the first failure is logged.
    void Fail(std::string_view msg, int err, std::string_view held_name, std::size_t held);
  };

  void TickLoop();
  // Leaks what the rates owe for the time since the last advance. REQUIRES: mu_ held.
  void AdvanceLocked(Clock::time_point now);
  std::int64_t LeakMibLocked(std::int64_t mib);
  std::int64_t LeakThreadsLocked(std::int64_t count);
  static void* Park(void* self);

  const LeakerOptions options_;

  std::mutex mu_;  // serializes leaking and releasing
  std::condition_variable tick_cv_;
  bool stopping_ = false;           // GUARDED_BY(mu_)
  std::thread ticker_;              // GUARDED_BY(mu_); started on the first nonzero rate
  Clock::time_point last_advance_;  // GUARDED_BY(mu_)
  Growth memory_growth_;
  Growth thread_growth_;
  std::vector<void*> chunks_;       // GUARDED_BY(mu_): kChunkBytes mappings
  std::vector<pthread_t> threads_;  // GUARDED_BY(mu_)

  // Parked threads wait on park_cv_ until release_ is set.
  std::mutex park_mu_;
  std::condition_variable park_cv_;
  bool release_ = false;  // GUARDED_BY(park_mu_)

  // Written under mu_, read by Snapshot() without it.
  std::atomic<std::int64_t> leaked_mib_{0};
  std::atomic<std::int64_t> leaked_threads_{0};
};

}  // namespace vigil::shop
