#include "service/leak.h"

#include <limits.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "agent/base/log.h"

namespace vigil::shop {

Leaker::Leaker(LeakerOptions options) : options_(options) {}

Leaker::~Leaker() {
  std::thread ticker;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    ticker = std::move(ticker_);
  }
  tick_cv_.notify_all();
  if (ticker.joinable()) ticker.join();
  Release();
}

void Leaker::SetRates(std::optional<std::int64_t> mib_per_minute,
                      std::optional<std::int64_t> threads_per_minute) {
  std::lock_guard<std::mutex> lock(mu_);
  // What the old rates owe up to now is leaked at the old rates.
  AdvanceLocked(Clock::now());
  if (mib_per_minute) memory_growth_.Set(*mib_per_minute);
  if (threads_per_minute) thread_growth_.Set(*threads_per_minute);
  const bool growing = memory_growth_.per_minute > 0 || thread_growth_.per_minute > 0;
  if (growing && !ticker_.joinable() && !stopping_) {
    ticker_ = std::thread([this] { TickLoop(); });
  }
}

std::int64_t Leaker::LeakMib(std::int64_t mib) {
  std::lock_guard<std::mutex> lock(mu_);
  return LeakMibLocked(mib);
}

std::int64_t Leaker::LeakThreads(std::int64_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  return LeakThreadsLocked(count);
}

void Leaker::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  memory_growth_.Set(0);
  memory_growth_.warned = false;
  thread_growth_.Set(0);
  thread_growth_.warned = false;
  {
    std::lock_guard<std::mutex> park(park_mu_);
    release_ = true;
  }
  park_cv_.notify_all();
  for (pthread_t t : threads_) pthread_join(t, nullptr);
  threads_.clear();
  leaked_threads_ = 0;
  {
    std::lock_guard<std::mutex> park(park_mu_);
    release_ = false;
  }
  for (void* chunk : chunks_) munmap(chunk, kChunkBytes);
  chunks_.clear();
  leaked_mib_ = 0;
}

LeakState Leaker::Snapshot() const {
  return {memory_growth_.per_minute.load(), thread_growth_.per_minute.load(), leaked_mib_.load(),
          leaked_threads_.load()};
}

void Leaker::TickLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    tick_cv_.wait_for(lock, options_.tick);
    if (stopping_) break;
    AdvanceLocked(Clock::now());
  }
}

void Leaker::Growth::Set(std::int64_t rate) {
  per_minute = std::max<std::int64_t>(0, rate);
  if (rate <= 0) owed = 0;
}

std::int64_t Leaker::Growth::Accrue(double minutes) {
  const std::int64_t rate = per_minute.load();
  if (rate <= 0) return 0;
  owed += static_cast<double>(rate) * std::clamp(minutes, 0.0, 1.0);
  const auto whole = static_cast<std::int64_t>(std::floor(owed));
  owed -= static_cast<double>(whole);
  return whole;
}

void Leaker::Growth::Fail(std::string_view msg, int err, std::string_view held_name,
                          std::size_t held) {
  Set(0);
  if (warned) return;
  warned = true;
  LogWarn(msg, {{"err", std::strerror(err)}, {held_name, std::to_string(held)}});
}

void Leaker::AdvanceLocked(Clock::time_point now) {
  const double minutes = std::chrono::duration<double>(now - last_advance_).count() / 60.0;
  last_advance_ = now;
  // At a limit nothing more is owed.
  const std::int64_t mib = memory_growth_.Accrue(minutes);
  if (LeakMibLocked(mib) < mib) memory_growth_.owed = 0;
  const std::int64_t threads = thread_growth_.Accrue(minutes);
  if (LeakThreadsLocked(threads) < threads) thread_growth_.owed = 0;
}

std::int64_t Leaker::LeakMibLocked(std::int64_t mib) {
  const std::int64_t room = options_.max_mib - static_cast<std::int64_t>(chunks_.size());
  const std::int64_t n = std::clamp<std::int64_t>(mib, 0, std::max<std::int64_t>(room, 0));
  for (std::int64_t i = 0; i < n; ++i) {
    void* p =
        mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      memory_growth_.Fail("memory leak stopped: mmap failed", errno, "leaked_mib", chunks_.size());
      return i;
    }
    std::memset(p, 0xA5, kChunkBytes);  // every page written: resident, not just reserved
    chunks_.push_back(p);
    leaked_mib_ = static_cast<std::int64_t>(chunks_.size());
  }
  return n;
}

std::int64_t Leaker::LeakThreadsLocked(std::int64_t count) {
  const std::int64_t room = options_.max_threads - static_cast<std::int64_t>(threads_.size());
  const std::int64_t n = std::clamp<std::int64_t>(count, 0, std::max<std::int64_t>(room, 0));
  if (n == 0) return 0;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr,
                            std::max<std::size_t>(options_.thread_stack_bytes,
                                                  static_cast<std::size_t>(PTHREAD_STACK_MIN)));
  std::int64_t created = 0;
  for (; created < n; ++created) {
    pthread_t t;
    const int rc = pthread_create(&t, &attr, &Leaker::Park, this);
    if (rc != 0) {
      thread_growth_.Fail("thread leak stopped: pthread_create failed", rc, "leaked_threads",
                          threads_.size());
      break;
    }
    pthread_setname_np(t, "shop-leak");
    threads_.push_back(t);
    leaked_threads_ = static_cast<std::int64_t>(threads_.size());
  }
  pthread_attr_destroy(&attr);
  return created;
}

void* Leaker::Park(void* self) {
  auto* leaker = static_cast<Leaker*>(self);
  std::unique_lock<std::mutex> lock(leaker->park_mu_);
  leaker->park_cv_.wait(lock, [leaker] { return leaker->release_; });
  return nullptr;
}

}  // namespace vigil::shop
