// A reader-writer mutex that prefers writers: once a writer waits, new readers queue behind
// it. std::shared_mutex on glibc prefers readers, so two or more threads taking shared locks
// back to back (rule evaluation and API queries over the series window) can keep a writer
// (ingestion) waiting for seconds; bench/window_lock measures it. Same interface as
// std::shared_mutex (use std::unique_lock / std::shared_lock). Shared locks must not be taken
// recursively by one thread: with a writer waiting, the second one would deadlock.
#pragma once

#include <pthread.h>

namespace vigil {

class SharedMutex {
 public:
  SharedMutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~SharedMutex() { pthread_rwlock_destroy(&lock_); }
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace vigil
