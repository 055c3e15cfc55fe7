#include "agent/base/clock.h"

#include <cstdio>
#include <ctime>

namespace vigil {

std::string FormatRfc3339(TimestampMs t) {
  // Floor division: -1 ms is 1969-12-31T23:59:59.999Z.
  TimestampMs secs = t / 1000, ms = t % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

TimestampMs SystemClock::Now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock& SystemClock::Get() {
  static SystemClock clock;
  return clock;
}

}  // namespace vigil
