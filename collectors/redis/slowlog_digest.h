// SlowlogDigest: per-command totals of Redis SLOWLOG entries, each counted once.
//
// Feed it the entries of every `SLOWLOG GET n` reply; it keeps the highest entry id it has
// counted (the watermark) and adds only entries above it, so a poll that sees an entry again
// never counts it twice. A server restart (new run_id) resets ids: the watermark is dropped
// and counting restarts from the new server's first entries, while the totals keep growing
// (they are counters). Entries that fell out of the server's slowlog between two polls are
// counted in missed(), from the gap in ids. Not thread-safe: one collector owns one digest.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil::collectors {

struct SlowlogEntry {
  std::int64_t id = 0;
  std::int64_t start_seconds = 0;
  std::int64_t duration_us = 0;
  std::string cmd;  // the command name, lower case ("get", "config")
};

class SlowlogDigest {
 public:
  struct Totals {
    double count = 0;
    double duration_seconds = 0;
  };

  // Adds the entries newer than the watermark. `run_id` identifies the server process.
  void Update(const std::string& run_id, const std::vector<SlowlogEntry>& entries);

  const std::map<std::string, Totals>& by_command() const { return by_command_; }
  double missed() const { return missed_; }
  // The highest id counted so far on the current server, if any.
  std::optional<std::int64_t> watermark() const { return watermark_; }
  // Duration of the newest entry seen, in seconds (0 before any).
  double last_duration_seconds() const { return last_duration_seconds_; }

 private:
  std::string run_id_;
  std::optional<std::int64_t> watermark_;
  std::map<std::string, Totals> by_command_;
  double missed_ = 0;
  double last_duration_seconds_ = 0;
};

}  // namespace vigil::collectors
