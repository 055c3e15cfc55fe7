// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable_any behind the clang
// thread-safety annotations (agent/base/thread_annotations.h), so that GUARDED_BY members and
// REQUIRES functions are checked at compile time. Same cost as std::mutex. Thread-safe.
//
//   Mutex mu_;
//   int count_ GUARDED_BY(mu_) = 0;
//   void Add() EXCLUDES(mu_) { MutexLock lock(mu_); ++count_; }
//
// A condition wait names the lock it releases: `cv_.Wait(lock, [&]() REQUIRES(mu_) {...})`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "agent/base/thread_annotations.h"

namespace vigil {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  [[nodiscard]] bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // For code the analysis cannot follow: documents (and tells clang) that the lock is held.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope; Unlock/Lock let a loop drop it around slow work.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  // Takes over `mu`, already held (e.g. after a successful try_lock).
  MutexLock(Mutex& mu, std::adopt_lock_t) REQUIRES(mu) : mu_(mu) {}
  ~MutexLock() RELEASE() {
    if (held_) mu_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() RELEASE() {
    mu_.unlock();
    held_ = false;
  }
  void Lock() ACQUIRE() {
    mu_.lock();
    held_ = true;
  }
  Mutex& mutex() const { return mu_; }

 private:
  Mutex& mu_;
  bool held_ = true;
};

// A condition variable waited on under a MutexLock. The predicate runs with the lock held:
// annotate it REQUIRES(mu) when it reads guarded members.
class CondVar {
 public:
  void Wait(MutexLock& lock) { cv_.wait(lock.mutex()); }
  template <typename Pred>
  void Wait(MutexLock& lock, Pred pred) {
    cv_.wait(lock.mutex(), pred);
  }
  // False when `d` passed with `pred` still false.
  template <typename Rep, typename Period, typename Pred>
  bool WaitFor(MutexLock& lock, std::chrono::duration<Rep, Period> d, Pred pred) {
    return cv_.wait_for(lock.mutex(), d, pred);
  }
  template <typename Rep, typename Period>
  void WaitFor(MutexLock& lock, std::chrono::duration<Rep, Period> d) {
    cv_.wait_for(lock.mutex(), d);
  }
  template <typename Clock, typename Duration, typename Pred>
  bool WaitUntil(MutexLock& lock, std::chrono::time_point<Clock, Duration> t, Pred pred) {
    return cv_.wait_until(lock.mutex(), t, pred);
  }
  template <typename Clock, typename Duration>
  void WaitUntil(MutexLock& lock, std::chrono::time_point<Clock, Duration> t) {
    cv_.wait_until(lock.mutex(), t);
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

}  // namespace vigil
