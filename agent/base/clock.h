// Clock: the one source of "now" for schedulers, rules and samples, so tests step time by hand.
//
// Timestamps are milliseconds since the Unix epoch, as in Prometheus. SystemClock and
// ManualClock are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace vigil {

using TimestampMs = std::int64_t;
using Duration = std::chrono::milliseconds;

// RFC 3339 with milliseconds in UTC: "2026-11-23T12:00:00.000Z" (as Prometheus and
// Alertmanager write times in their APIs). Times before 1970 are written correctly too.
std::string FormatRfc3339(TimestampMs t);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimestampMs Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimestampMs Now() const override;
  static SystemClock& Get();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimestampMs start = 0) : now_(start) {}
  TimestampMs Now() const override { return now_.load(); }
  void Set(TimestampMs t) { now_.store(t); }
  void Advance(Duration d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<TimestampMs> now_;
};

}  // namespace vigil
