#include "collectors/process/proc_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace vigil::collectors {
namespace {

std::uint64_t ToU64(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Calls fn(key, value) for each "Key:   value" line.
template <typename Fn>
void ForEachKeyValue(std::string_view text, Fn fn) {
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos)
      fn(Trim(line.substr(0, colon)), Trim(line.substr(colon + 1)));
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
}

// "123 kB" -> bytes
std::uint64_t KbValue(std::string_view v) { return ToU64(v) * 1024; }

bool Denied() { return errno == EACCES || errno == EPERM; }

// false when the directory could not be opened (errno tells why).
template <typename Fn>
bool ForEachDirNumber(const std::string& dir, Fn fn) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return false;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int n = 0;
    auto [p, ec] = std::from_chars(e->d_name, e->d_name + std::strlen(e->d_name), n);
    if (ec == std::errc() && *p == '\0') fn(n);
  }
  closedir(d);
  return true;
}

}  // namespace

std::optional<std::string> ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      const int err = errno;  // the caller may ask why (Denied())
      ::close(fd);
      errno = err;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > (1u << 20)) break;  // no /proc file we read is this large
  }
  ::close(fd);
  return out;
}

Result<ProcStat> ParseProcStat(std::string_view text) {
  std::size_t open = text.find('(');
  std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return Status::InvalidArgument("stat: no (comm)");
  }
  ProcStat st;
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  // Fields after comm, numbered from 3 (state) as in proc(5).
  std::vector<std::string_view> f;
  std::string_view rest = text.substr(close + 1);
  std::size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && (rest[pos] == ' ' || rest[pos] == '\n')) ++pos;
    std::size_t end = pos;
    while (end < rest.size() && rest[end] != ' ' && rest[end] != '\n') ++end;
    if (end > pos) f.push_back(rest.substr(pos, end - pos));
    pos = end;
  }
  if (f.size() < 22) return Status::InvalidArgument("stat: too few fields");
  auto field = [&](int n) { return f[static_cast<std::size_t>(n - 3)]; };
  st.state = field(3).empty() ? '?' : field(3)[0];
  st.minor_faults = ToU64(field(10));
  st.major_faults = ToU64(field(12));
  st.utime_ticks = ToU64(field(14));
  st.stime_ticks = ToU64(field(15));
  st.num_threads = ToU64(field(20));
  st.start_ticks = ToU64(field(22));
  st.vsize_bytes = ToU64(field(23));
  st.rss_pages = ToU64(field(24));
  return st;
}

ProcStatus ParseProcStatus(std::string_view text) {
  ProcStatus s;
  ForEachKeyValue(text, [&](std::string_view k, std::string_view v) {
    if (k == "VmRSS")
      s.rss_bytes = KbValue(v);
    else if (k == "VmHWM")
      s.peak_rss_bytes = KbValue(v);
    else if (k == "VmSwap")
      s.swap_bytes = KbValue(v);
    else if (k == "voluntary_ctxt_switches")
      s.voluntary_ctxt = ToU64(v);
    else if (k == "nonvoluntary_ctxt_switches")
      s.nonvoluntary_ctxt = ToU64(v);
  });
  return s;
}

std::pair<std::uint64_t, std::uint64_t> ParseSmapsRollup(std::string_view text) {
  std::pair<std::uint64_t, std::uint64_t> out{0, 0};
  ForEachKeyValue(text, [&](std::string_view k, std::string_view v) {
    if (k == "Pss")
      out.first = KbValue(v);
    else if (k == "SwapPss")
      out.second = KbValue(v);
  });
  return out;
}

std::pair<std::uint64_t, std::uint64_t> ParseProcIo(std::string_view text) {
  std::pair<std::uint64_t, std::uint64_t> out{0, 0};
  ForEachKeyValue(text, [&](std::string_view k, std::string_view v) {
    if (k == "read_bytes")
      out.first = ToU64(v);
    else if (k == "write_bytes")
      out.second = ToU64(v);
  });
  return out;
}

std::uint64_t ParseMaxOpenFiles(std::string_view text) {
  std::size_t pos = text.find("Max open files");
  if (pos == std::string_view::npos) return 0;
  std::string_view rest = Trim(text.substr(pos + 14));
  std::size_t end = rest.find(' ');
  std::string_view soft = rest.substr(0, end);
  return soft == "unlimited" ? 0 : ToU64(soft);
}

std::string ParseCgroupV2Path(std::string_view text) {
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (line.starts_with("0::")) return std::string(line.substr(3));
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return "";
}

std::optional<std::uint64_t> ParseBootTime(std::string_view text) {
  std::size_t pos = text.find("\nbtime ");
  if (pos == std::string_view::npos) return std::nullopt;
  return ToU64(text.substr(pos + 7));
}

ProcReader::ProcReader(std::string root) : root_(std::move(root)) {}

std::string ProcReader::Path(int pid, std::string_view file) const {
  return root_ + "/" + std::to_string(pid) + "/" + std::string(file);
}

std::vector<int> ProcReader::ListPids() const {
  std::vector<int> pids;
  ForEachDirNumber(root_, [&](int pid) { pids.push_back(pid); });
  return pids;
}

Result<ProcessInfo> ProcReader::Read(int pid, bool with_threads, bool with_pss) const {
  std::optional<std::string> stat = ReadSmallFile(Path(pid, "stat"));
  if (!stat) return Status::NotFound("process " + std::to_string(pid) + " is gone");
  Result<ProcStat> parsed = ParseProcStat(*stat);
  if (!parsed.ok()) return parsed.status().WithContext(Path(pid, "stat"));
  ProcessInfo info;
  info.pid = pid;
  info.stat = std::move(parsed.value());
  if (auto s = ReadSmallFile(Path(pid, "status"))) info.status = ParseProcStatus(*s);
  if (with_pss) {
    if (auto s = ReadSmallFile(Path(pid, "smaps_rollup"))) {
      std::tie(info.pss_bytes, info.swap_pss_bytes) = ParseSmapsRollup(*s);
    } else {
      info.smaps_denied = Denied();
    }
  }
  if (auto s = ReadSmallFile(Path(pid, "io"))) {
    std::tie(info.read_bytes, info.write_bytes) = ParseProcIo(*s);
  } else {
    info.io_denied = Denied();
  }
  if (auto s = ReadSmallFile(Path(pid, "limits"))) info.max_fds = ParseMaxOpenFiles(*s);
  if (!ForEachDirNumber(Path(pid, "fd"), [&](int) { ++info.open_fds; })) {
    info.fd_denied = Denied();
  }
  if (with_threads) {
    ForEachDirNumber(Path(pid, "task"), [&](int tid) {
      auto ts = ReadSmallFile(Path(pid, "task/" + std::to_string(tid) + "/stat"));
      if (!ts) return;
      Result<ProcStat> t = ParseProcStat(*ts);
      if (t.ok()) ++info.thread_states[t->state];
    });
  }
  return info;
}

std::string ProcReader::ReadComm(int pid) const {
  auto s = ReadSmallFile(Path(pid, "comm"));
  if (!s) return "";
  while (!s->empty() && s->back() == '\n') s->pop_back();
  return *s;
}

std::string ProcReader::ReadCmdline(int pid) const {
  auto s = ReadSmallFile(Path(pid, "cmdline"));
  if (!s) return "";
  while (!s->empty() && s->back() == '\0') s->pop_back();
  for (char& c : *s) {
    if (c == '\0') c = ' ';
  }
  return *s;
}

std::string ProcReader::ReadCgroup(int pid) const {
  auto s = ReadSmallFile(Path(pid, "cgroup"));
  return s ? ParseCgroupV2Path(*s) : "";
}

std::uint64_t ProcReader::BootTimeSeconds() const {
  auto s = ReadSmallFile(root_ + "/stat");
  if (!s) return 0;
  return ParseBootTime(*s).value_or(0);
}

double ProcReader::TicksPerSecond() {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return ticks > 0 ? ticks : 100.0;
}

}  // namespace vigil::collectors
