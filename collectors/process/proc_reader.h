// Reading processes from a /proc tree whose root is configurable (fixtures in tests).
//
// Parsers are pure functions of file text, so malformed files are tested without a system;
// ProcReader does the I/O. A file that cannot be read or parsed makes that one field zero
// (permissions hide smaps_rollup and io of other users' processes), never an abort.
// Thread-compatible: a ProcReader is used by one collection at a time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"

namespace vigil::collectors {

struct ProcStat {
  std::string comm;
  char state = '?';
  std::uint64_t utime_ticks = 0, stime_ticks = 0;
  std::uint64_t minor_faults = 0, major_faults = 0;
  std::uint64_t num_threads = 0;
  std::uint64_t start_ticks = 0;  // since boot
  std::uint64_t vsize_bytes = 0;
  std::uint64_t rss_pages = 0;
};

struct ProcStatus {
  std::uint64_t rss_bytes = 0, peak_rss_bytes = 0, swap_bytes = 0;
  std::uint64_t voluntary_ctxt = 0, nonvoluntary_ctxt = 0;
};

struct ProcessInfo {
  int pid = 0;
  ProcStat stat;
  ProcStatus status;
  std::uint64_t pss_bytes = 0, swap_pss_bytes = 0;  // smaps_rollup
  std::uint64_t read_bytes = 0, write_bytes = 0;    // io
  std::uint64_t open_fds = 0, max_fds = 0;          // fd/, limits
  std::map<char, std::uint64_t> thread_states;      // task/*/stat state -> count
  // Files the kernel refused (EACCES/EPERM: another user's process without CAP_SYS_PTRACE /
  // CAP_DAC_READ_SEARCH, see packaging/README.md); their values above are 0, not measured.
  bool fd_denied = false, io_denied = false, smaps_denied = false;
};

Result<ProcStat> ParseProcStat(std::string_view text);
ProcStatus ParseProcStatus(std::string_view text);
// Pss and SwapPss of smaps_rollup, in bytes.
std::pair<std::uint64_t, std::uint64_t> ParseSmapsRollup(std::string_view text);
std::pair<std::uint64_t, std::uint64_t> ParseProcIo(std::string_view text);
// The soft "Max open files" limit; 0 when unlimited or absent.
std::uint64_t ParseMaxOpenFiles(std::string_view text);
// The unified (v2) cgroup path of /proc/PID/cgroup ("0::/system.slice/x.service").
std::string ParseCgroupV2Path(std::string_view text);
// "btime" of /proc/stat, seconds since the epoch.
std::optional<std::uint64_t> ParseBootTime(std::string_view text);

class ProcReader {
 public:
  explicit ProcReader(std::string root = "/proc");
  const std::string& root() const { return root_; }
  std::vector<int> ListPids() const;
  // Reads stat (required: NotFound when the process is gone) and the optional files.
  // with_pss reads smaps_rollup, which makes the kernel walk every mapping of the process:
  // by far the most expensive file here for a large process.
  Result<ProcessInfo> Read(int pid, bool with_threads, bool with_pss = true) const;
  std::string ReadComm(int pid) const;     // "" when gone
  std::string ReadCmdline(int pid) const;  // NULs as spaces
  std::string ReadCgroup(int pid) const;
  std::uint64_t BootTimeSeconds() const;
  static double TicksPerSecond();

 private:
  std::string Path(int pid, std::string_view file) const;
  std::string root_;
};

// Reads a whole small file; nullopt when it cannot be opened.
std::optional<std::string> ReadSmallFile(const std::string& path);

}  // namespace vigil::collectors
