// ConnectionPool: a bounded pool of database connections with min/max size, an acquire
// timeout, a maximum lifetime, an idle timeout and broken-connection replacement.
//
// The pool knows connections only through PoolConnection and creates them with an injected
// factory, so tests drive it with fakes. Acquire() hands out a Lease (RAII: returning it puts
// the connection back, or closes it when it was marked broken or outlived its lifetime). When
// every connection is in use and the pool is at max, Acquire() waits up to the acquire timeout
// and then fails with DeadlineExceeded. Connections are opened and closed outside the lock.
// Lifetime and idle time are read from the injected Clock; waits use the steady clock.
//
// Thread-safe: all methods may be called from any thread. Every Lease must be destroyed before
// the pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/status.h"

namespace vigil::shop {

class PoolConnection {
 public:
  virtual ~PoolConnection() = default;
  // True when the connection can no longer be used (socket closed, server gone).
  virtual bool IsBroken() const = 0;
};

using ConnectionFactory = std::function<Result<std::unique_ptr<PoolConnection>>()>;

struct PoolOptions {
  std::size_t min_size = 2;
  std::size_t max_size = 10;
  std::chrono::milliseconds acquire_timeout{1000};
  std::chrono::milliseconds max_lifetime{30 * 60 * 1000};
  std::chrono::milliseconds idle_timeout{5 * 60 * 1000};
};

enum class CloseReason { kBroken = 0, kMaxLifetime, kIdleTimeout, kShutdown };
inline constexpr int kCloseReasonCount = 4;
// "broken", "max_lifetime", "idle_timeout", "shutdown": the metric label values.
const char* CloseReasonName(CloseReason reason);

// Receives the pool's events; called outside the pool lock, from the thread that caused them.
class PoolObserver {
 public:
  virtual ~PoolObserver() = default;
  virtual void OnWait(double seconds) = 0;  // every Acquire, successful or not
  virtual void OnUse(double seconds) = 0;   // when a lease ends
  virtual void OnTimeout() = 0;
  virtual void OnCreated() = 0;
  virtual void OnClosed(CloseReason reason) = 0;
};

struct PoolStats {
  std::size_t idle = 0;
  std::size_t used = 0;
  std::size_t pending = 0;  // callers waiting in Acquire
  std::size_t max = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t created = 0;
  std::uint64_t create_failures = 0;
  std::uint64_t closed[kCloseReasonCount] = {};
};

class ConnectionPool {
 public:
  // `clock` and `observer` (may be null) must outlive the pool. REQUIRES: 0 < max_size,
  // min_size <= max_size. Nothing is opened until Start() or the first Acquire().
  ConnectionPool(PoolOptions options, ConnectionFactory factory, const Clock& clock,
                 PoolObserver* observer);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    PoolConnection& get() { return *conn_; }
    template <typename T>
    T& As() {
      return static_cast<T&>(*conn_);
    }
    // The connection is closed instead of returned to the pool.
    void MarkBroken() { broken_ = true; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<PoolConnection> conn, TimestampMs created_ms,
          std::chrono::steady_clock::time_point acquired);
    void Return();

    ConnectionPool* pool_ = nullptr;
    std::unique_ptr<PoolConnection> conn_;
    TimestampMs created_ms_ = 0;
    std::chrono::steady_clock::time_point acquired_;
    bool broken_ = false;
  };

  // Opens min_size connections; returns the first failure (the pool still works and retries
  // on demand).
  Status Start();
  Result<Lease> Acquire() { return Acquire(options_.acquire_timeout); }
  Result<Lease> Acquire(std::chrono::milliseconds timeout);
  // Closes idle connections past their idle timeout (down to min_size) or lifetime, and opens
  // connections up to min_size. Call periodically (the server does every second).
  void Maintain();
  // Closes idle connections; new acquires open fresh ones.
  void CloseIdle();
  PoolStats Stats() const;
  const PoolOptions& options() const { return options_; }

 private:
  struct Idle {
    std::unique_ptr<PoolConnection> conn;
    TimestampMs created_ms;
    TimestampMs idle_since_ms;
  };
  void Release(std::unique_ptr<PoolConnection> conn, TimestampMs created_ms, bool broken,
               double use_seconds);
  void Closed(CloseReason reason, std::size_t n);

  const PoolOptions options_;
  const ConnectionFactory factory_;
  const Clock& clock_;
  PoolObserver* const observer_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Idle> idle_;   // GUARDED_BY(mu_); back = most recently returned
  std::size_t used_ = 0;     // GUARDED_BY(mu_)
  std::size_t opening_ = 0;  // GUARDED_BY(mu_)
  std::size_t pending_ = 0;  // GUARDED_BY(mu_)
  PoolStats counters_;       // GUARDED_BY(mu_); the cumulative fields only
};

}  // namespace vigil::shop
