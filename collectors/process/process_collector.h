// The process collector: one named group of processes (matched by command name, cmdline
// regex, pidfile, cgroup or "self"), exported with process-exporter's names
// (namedprocess_namegroup_*). A group keeps reporting, with 0 processes, while nothing
// matches, and counters stay monotonic as member processes come and go.
// Thread-compatible: the scheduler never runs one instance concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "collectors/collector.h"
#include "collectors/process/proc_reader.h"

namespace re2 {
class RE2;
}

namespace vigil::collectors {

struct ProcessMatch {
  std::vector<std::string> comm;  // exact names (any of)
  std::string cmdline;            // RE2, unanchored search
  std::string pidfile;
  std::string cgroup;  // path prefix of the v2 cgroup
  bool self = false;
};

struct ProcessGroupConfig {
  std::string name;
  ProcessMatch match;
  std::string proc_root = "/proc";
  bool threads = true;  // count threads by state (reads task/*/stat)
  // How often each member's PSS is read (smaps_rollup); between reads its last value is
  // reported. 0 reads it every cycle.
  Duration pss_interval{60000};
};

class ProcessCollector final : public Collector {
 public:
  explicit ProcessCollector(ProcessGroupConfig config);
  ~ProcessCollector() override;
  Status Collect(const CollectContext& ctx, MetricSink& sink) override;

 private:
  struct Counters {
    double user = 0, system = 0, minor = 0, major = 0, read = 0, write = 0, vol = 0, nonvol = 0;
  };
  std::vector<int> MatchingPids() const;
  Counters CountersOf(const ProcessInfo& p) const;

  ProcessGroupConfig config_;
  ProcReader reader_;
  std::unique_ptr<re2::RE2> cmdline_re_;
  Counters totals_;
  std::map<std::pair<int, std::uint64_t>, Counters> last_;  // (pid, start ticks) -> counters
  struct Pss {
    std::uint64_t pss = 0, swap_pss = 0;
    bool denied = false;  // smaps_rollup refused (ProcessInfo::smaps_denied)
    TimestampMs read_at = 0;
  };
  std::map<std::pair<int, std::uint64_t>, Pss> pss_;  // (pid, start ticks) -> last PSS read
};

// The agent's own process with the standard client-library names (process_cpu_seconds_total,
// process_resident_memory_bytes, ...), plus vigil_threads.
class SelfProcessCollector final : public Collector {
 public:
  explicit SelfProcessCollector(std::string proc_root = "/proc");
  Status Collect(const CollectContext& ctx, MetricSink& sink) override;

 private:
  ProcReader reader_;
};

}  // namespace vigil::collectors
