#include "service/db_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

namespace vigil::shop {
namespace {

using std::chrono::milliseconds;

class FakeConnection : public PoolConnection {
 public:
  explicit FakeConnection(int id, std::atomic<int>* live) : id_(id), live_(live) { ++*live_; }
  ~FakeConnection() override { --*live_; }
  bool IsBroken() const override { return broken_; }
  int id() const { return id_; }
  void Break() { broken_ = true; }

 private:
  int id_;
  std::atomic<int>* live_;
  bool broken_ = false;
};

struct Fixture {
  std::atomic<int> next_id{1};
  std::atomic<int> live{0};
  std::atomic<bool> fail{false};
  ManualClock clock{1'000'000};

  ConnectionFactory Factory() {
    return [this]() -> Result<std::unique_ptr<PoolConnection>> {
      if (fail) return Status::Unavailable("connection refused");
      return std::unique_ptr<PoolConnection>(new FakeConnection(next_id++, &live));
    };
  }
};

class CountingObserver : public PoolObserver {
 public:
  void OnWait(double s) override {
    waits++;
    max_wait = std::max(max_wait.load(), s);
  }
  void OnUse(double) override { uses++; }
  void OnTimeout() override { timeouts++; }
  void OnCreated() override { created++; }
  void OnClosed(CloseReason r) override { closed[static_cast<int>(r)]++; }
  std::atomic<int> waits{0}, uses{0}, timeouts{0}, created{0};
  std::atomic<double> max_wait{0};
  std::atomic<int> closed[kCloseReasonCount] = {};
};

PoolOptions Options(std::size_t min, std::size_t max) {
  PoolOptions o;
  o.min_size = min;
  o.max_size = max;
  o.acquire_timeout = milliseconds(100);
  o.max_lifetime = milliseconds(60'000);
  o.idle_timeout = milliseconds(10'000);
  return o;
}

TEST_CASE("pool opens min connections at start and reuses returned ones") {
  Fixture f;
  CountingObserver obs;
  ConnectionPool pool(Options(2, 4), f.Factory(), f.clock, &obs);
  REQUIRE(pool.Start().ok());
  CHECK(f.live == 2);
  CHECK(pool.Stats().idle == 2);
  int first_id = 0;
  {
    auto lease = pool.Acquire();
    REQUIRE(lease.ok());
    first_id = lease->As<FakeConnection>().id();
    CHECK(pool.Stats().used == 1);
    CHECK(pool.Stats().idle == 1);
  }
  auto again = pool.Acquire();
  REQUIRE(again.ok());
  CHECK(again->As<FakeConnection>().id() == first_id);  // LIFO: the warm one
  CHECK(f.live == 2);
  CHECK(obs.created == 2);
  CHECK(obs.uses == 1);
}

TEST_CASE("pool grows to max, then times out within the acquire timeout") {
  Fixture f;
  CountingObserver obs;
  ConnectionPool pool(Options(0, 3), f.Factory(), f.clock, &obs);
  std::vector<ConnectionPool::Lease> held;
  for (int i = 0; i < 3; ++i) {
    auto lease = pool.Acquire();
    REQUIRE(lease.ok());
    held.push_back(std::move(lease).value());
  }
  CHECK(f.live == 3);
  const auto start = std::chrono::steady_clock::now();
  auto extra = pool.Acquire(milliseconds(80));
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(extra.ok());
  CHECK(extra.status().code() == Status::Code::kDeadlineExceeded);
  CHECK(waited >= milliseconds(75));
  CHECK(waited < milliseconds(1000));
  CHECK(pool.Stats().timeouts == 1);
  CHECK(obs.timeouts == 1);
  CHECK(f.live == 3);
}

TEST_CASE("a waiter gets the connection another thread returns") {
  Fixture f;
  ConnectionPool pool(Options(0, 1), f.Factory(), f.clock, nullptr);
  auto held = pool.Acquire();
  REQUIRE(held.ok());
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto lease = pool.Acquire(milliseconds(2000));
    got = lease.ok();
  });
  // Wait until the waiter is pending, then return the connection.
  for (int i = 0; i < 200 && pool.Stats().pending == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  CHECK(pool.Stats().pending == 1);
  { auto done = std::move(held).value(); }
  waiter.join();
  CHECK(got);
  CHECK(pool.Stats().pending == 0);
  CHECK(pool.Stats().timeouts == 0);
}

TEST_CASE("broken connections are closed and replaced") {
  Fixture f;
  CountingObserver obs;
  ConnectionPool pool(Options(1, 2), f.Factory(), f.clock, &obs);
  REQUIRE(pool.Start().ok());
  int broken_id = 0;
  {
    auto lease = pool.Acquire();
    REQUIRE(lease.ok());
    broken_id = lease->As<FakeConnection>().id();
    lease->As<FakeConnection>().Break();
  }
  CHECK(obs.closed[static_cast<int>(CloseReason::kBroken)] == 1);
  CHECK(pool.Stats().closed[static_cast<int>(CloseReason::kBroken)] == 1);
  auto lease = pool.Acquire();
  REQUIRE(lease.ok());
  CHECK(lease->As<FakeConnection>().id() != broken_id);
  CHECK(f.live == 1);

  SECTION("MarkBroken closes a connection that looks healthy") {
    lease->MarkBroken();
    { auto done = std::move(lease).value(); }
    CHECK(pool.Stats().closed[static_cast<int>(CloseReason::kBroken)] == 2);
    CHECK(f.live == 0);
  }
}

TEST_CASE("an idle connection that broke meanwhile is skipped on acquire") {
  Fixture f;
  ConnectionPool pool(Options(0, 2), f.Factory(), f.clock, nullptr);
  FakeConnection* raw = nullptr;
  {
    auto lease = pool.Acquire();
    REQUIRE(lease.ok());
    raw = &lease->As<FakeConnection>();
  }
  raw->Break();  // the server went away while it sat idle
  auto lease = pool.Acquire();
  REQUIRE(lease.ok());
  CHECK_FALSE(lease->get().IsBroken());
  CHECK(pool.Stats().closed[static_cast<int>(CloseReason::kBroken)] == 1);
}

TEST_CASE("max lifetime and idle timeout close connections, Maintain keeps min") {
  Fixture f;
  ConnectionPool pool(Options(1, 4), f.Factory(), f.clock, nullptr);
  {
    std::vector<ConnectionPool::Lease> held;
    for (int i = 0; i < 3; ++i) held.push_back(std::move(pool.Acquire()).value());
  }
  CHECK(pool.Stats().idle == 3);
  f.clock.Advance(milliseconds(10'001));
  pool.Maintain();
  CHECK(pool.Stats().idle == 1);  // idle timeout closes down to min
  CHECK(pool.Stats().closed[static_cast<int>(CloseReason::kIdleTimeout)] == 2);
  f.clock.Advance(milliseconds(50'000));  // now past the 60 s lifetime
  pool.Maintain();
  CHECK(pool.Stats().closed[static_cast<int>(CloseReason::kMaxLifetime)] == 1);
  CHECK(pool.Stats().idle == 1);  // replaced to keep min
  CHECK(f.live == 1);

  SECTION("a lease held past the lifetime is closed on return") {
    auto lease = pool.Acquire();
    REQUIRE(lease.ok());
    f.clock.Advance(milliseconds(61'000));
    { auto done = std::move(lease).value(); }
    CHECK(pool.Stats().closed[static_cast<int>(CloseReason::kMaxLifetime)] == 2);
    CHECK(pool.Stats().idle == 0);
  }
}

TEST_CASE("factory failures surface as Unavailable and free the slot") {
  Fixture f;
  f.fail = true;
  ConnectionPool pool(Options(1, 1), f.Factory(), f.clock, nullptr);
  CHECK_FALSE(pool.Start().ok());
  auto lease = pool.Acquire();
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.status().code() == Status::Code::kUnavailable);
  CHECK(pool.Stats().create_failures == 2);
  f.fail = false;  // the server is back: no restart needed
  auto again = pool.Acquire();
  REQUIRE(again.ok());
}

TEST_CASE("pool stays within max under concurrent use") {
  Fixture f;
  PoolOptions o = Options(0, 3);
  o.acquire_timeout = milliseconds(2000);
  ConnectionPool pool(o, f.Factory(), f.clock, nullptr);
  std::atomic<int> in_use{0}, max_in_use{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto lease = pool.Acquire();
        if (!lease.ok()) {
          failures++;
          continue;
        }
        const int now = ++in_use;
        int prev = max_in_use.load();
        while (now > prev && !max_in_use.compare_exchange_weak(prev, now)) {
        }
        std::this_thread::yield();
        --in_use;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(max_in_use <= 3);
  CHECK(f.live <= 3);
  CHECK(pool.Stats().used == 0);
}

}  // namespace
}  // namespace vigil::shop
