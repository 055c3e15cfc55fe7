#include "service/db_pool.h"

#include <optional>
#include <utility>

namespace vigil::shop {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const char* CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kBroken:
      return "broken";
    case CloseReason::kMaxLifetime:
      return "max_lifetime";
    case CloseReason::kIdleTimeout:
      return "idle_timeout";
    case CloseReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::unique_ptr<PoolConnection> conn,
                             TimestampMs created_ms, std::chrono::steady_clock::time_point acquired)
    : pool_(pool), conn_(std::move(conn)), created_ms_(created_ms), acquired_(acquired) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      conn_(std::move(other.conn_)),
      created_ms_(other.created_ms_),
      acquired_(other.acquired_),
      broken_(other.broken_) {}

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Return();
    pool_ = std::exchange(other.pool_, nullptr);
    conn_ = std::move(other.conn_);
    created_ms_ = other.created_ms_;
    acquired_ = other.acquired_;
    broken_ = other.broken_;
  }
  return *this;
}

ConnectionPool::Lease::~Lease() { Return(); }

void ConnectionPool::Lease::Return() {
  if (pool_ != nullptr && conn_ != nullptr) {
    pool_->Release(std::move(conn_), created_ms_, broken_, SecondsSince(acquired_));
  }
  pool_ = nullptr;
}

ConnectionPool::ConnectionPool(PoolOptions options, ConnectionFactory factory, const Clock& clock,
                               PoolObserver* observer)
    : options_(options), factory_(std::move(factory)), clock_(clock), observer_(observer) {}

ConnectionPool::~ConnectionPool() {
  std::vector<Idle> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle.swap(idle_);
    counters_.closed[static_cast<int>(CloseReason::kShutdown)] += idle.size();
  }
  Closed(CloseReason::kShutdown, idle.size());
}

void ConnectionPool::Closed(CloseReason reason, std::size_t n) {
  if (observer_ == nullptr) return;
  for (std::size_t i = 0; i < n; ++i) observer_->OnClosed(reason);
}

Status ConnectionPool::Start() {
  Maintain();
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() + used_ < options_.min_size) {
    return Status::Unavailable("could not open the pool's minimum connections");
  }
  return Status::Ok();
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire(std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  std::vector<std::pair<std::unique_ptr<PoolConnection>, CloseReason>> to_close;
  auto finish_closes = [&] {
    for (auto& [conn, reason] : to_close) {
      conn.reset();
      Closed(reason, 1);
    }
    to_close.clear();
  };
  auto observe_wait = [&] {
    if (observer_ != nullptr) observer_->OnWait(SecondsSince(start));
  };

  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (!idle_.empty()) {
      Idle item = std::move(idle_.back());
      idle_.pop_back();
      CloseReason reason;
      if (item.conn->IsBroken()) {
        reason = CloseReason::kBroken;
      } else if (clock_.Now() - item.created_ms >= options_.max_lifetime.count()) {
        reason = CloseReason::kMaxLifetime;
      } else {
        ++used_;
        lock.unlock();
        finish_closes();
        observe_wait();
        return Lease(this, std::move(item.conn), item.created_ms, std::chrono::steady_clock::now());
      }
      counters_.closed[static_cast<int>(reason)]++;
      to_close.emplace_back(std::move(item.conn), reason);
    }
    if (used_ + opening_ < options_.max_size) {
      ++opening_;
      lock.unlock();
      finish_closes();
      Result<std::unique_ptr<PoolConnection>> made = factory_();
      const TimestampMs created_ms = clock_.Now();
      lock.lock();
      --opening_;
      if (made.ok()) {
        ++used_;
        counters_.created++;
        lock.unlock();
        if (observer_ != nullptr) observer_->OnCreated();
        observe_wait();
        return Lease(this, std::move(made).value(), created_ms, std::chrono::steady_clock::now());
      }
      counters_.create_failures++;
      lock.unlock();
      cv_.notify_one();  // a waiter may try to open one itself
      observe_wait();
      return made.status().WithContext("connection pool: opening a connection failed");
    }
    ++pending_;
    const bool timed_out = cv_.wait_until(lock, deadline) == std::cv_status::timeout;
    --pending_;
    if (timed_out && idle_.empty() && used_ + opening_ >= options_.max_size) {
      counters_.timeouts++;
      lock.unlock();
      finish_closes();
      observe_wait();
      if (observer_ != nullptr) observer_->OnTimeout();
      return Status::DeadlineExceeded("connection pool exhausted: no connection within " +
                                      std::to_string(timeout.count()) + " ms");
    }
  }
}

void ConnectionPool::Release(std::unique_ptr<PoolConnection> conn, TimestampMs created_ms,
                             bool broken, double use_seconds) {
  if (observer_ != nullptr) observer_->OnUse(use_seconds);
  std::optional<CloseReason> reason;
  const TimestampMs now = clock_.Now();
  if (broken || conn->IsBroken()) {
    reason = CloseReason::kBroken;
  } else if (now - created_ms >= options_.max_lifetime.count()) {
    reason = CloseReason::kMaxLifetime;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    --used_;
    if (reason) {
      counters_.closed[static_cast<int>(*reason)]++;
    } else {
      idle_.push_back(Idle{std::move(conn), created_ms, now});
    }
  }
  cv_.notify_one();
  if (reason) {
    conn.reset();
    Closed(*reason, 1);
  }
}

void ConnectionPool::Maintain() {
  std::vector<std::pair<std::unique_ptr<PoolConnection>, CloseReason>> to_close;
  std::size_t need = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const TimestampMs now = clock_.Now();
    std::vector<Idle> keep;
    keep.reserve(idle_.size());
    // idle_ is ordered oldest-returned first, so idle timeouts close the longest idle first.
    std::size_t total = idle_.size() + used_ + opening_;
    for (Idle& item : idle_) {
      std::optional<CloseReason> reason;
      if (item.conn->IsBroken()) {
        reason = CloseReason::kBroken;
      } else if (now - item.created_ms >= options_.max_lifetime.count()) {
        reason = CloseReason::kMaxLifetime;
      } else if (now - item.idle_since_ms >= options_.idle_timeout.count() &&
                 total > options_.min_size) {
        reason = CloseReason::kIdleTimeout;
      }
      if (reason) {
        counters_.closed[static_cast<int>(*reason)]++;
        to_close.emplace_back(std::move(item.conn), *reason);
        --total;
      } else {
        keep.push_back(std::move(item));
      }
    }
    idle_.swap(keep);
    if (total < options_.min_size) need = options_.min_size - total;
    opening_ += need;
  }
  for (auto& [conn, reason] : to_close) {
    conn.reset();
    Closed(reason, 1);
  }
  for (std::size_t i = 0; i < need; ++i) {
    Result<std::unique_ptr<PoolConnection>> made = factory_();
    const TimestampMs created_ms = clock_.Now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      --opening_;
      if (made.ok()) {
        counters_.created++;
        idle_.push_back(Idle{std::move(made).value(), created_ms, created_ms});
      } else {
        counters_.create_failures++;
      }
    }
    if (made.ok()) {
      if (observer_ != nullptr) observer_->OnCreated();
      cv_.notify_one();
    } else {
      // The server is unreachable: give the remaining slots back and try next time.
      std::lock_guard<std::mutex> lock(mu_);
      opening_ -= need - i - 1;
      break;
    }
  }
}

void ConnectionPool::CloseIdle() {
  std::vector<Idle> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle.swap(idle_);
    counters_.closed[static_cast<int>(CloseReason::kShutdown)] += idle.size();
  }
  const std::size_t n = idle.size();
  idle.clear();
  Closed(CloseReason::kShutdown, n);
}

PoolStats ConnectionPool::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PoolStats s = counters_;
  s.idle = idle_.size();
  s.used = used_;
  s.pending = pending_;
  s.max = options_.max_size;
  return s;
}

}  // namespace vigil::shop
