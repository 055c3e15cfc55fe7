#include "collectors/process/process_collector.h"

#include <re2/re2.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace vigil::collectors {
namespace {

constexpr char kPrefix[] = "namedprocess_namegroup_";

std::string StateName(char s) {
  switch (s) {
    case 'R':
      return "Running";
    case 'S':
      return "Sleeping";
    case 'D':
      return "Waiting";
    case 'Z':
      return "Zombie";
    default:
      return "Other";
  }
}

std::string Name(std::string_view suffix) { return std::string(kPrefix) + std::string(suffix); }

}  // namespace

ProcessCollector::ProcessCollector(ProcessGroupConfig config)
    : config_(std::move(config)), reader_(config_.proc_root) {
  if (!config_.match.cmdline.empty()) {
    cmdline_re_ = std::make_unique<re2::RE2>(config_.match.cmdline, re2::RE2::Quiet);
  }
}

ProcessCollector::~ProcessCollector() = default;

std::vector<int> ProcessCollector::MatchingPids() const {
  const ProcessMatch& m = config_.match;
  if (m.self) return {static_cast<int>(getpid())};
  if (!m.pidfile.empty()) {
    std::optional<std::string> text = ReadSmallFile(m.pidfile);
    int pid = 0;
    if (text) std::from_chars(text->data(), text->data() + text->size(), pid);
    if (pid > 0 && !reader_.ReadComm(pid).empty()) return {pid};
    return {};
  }
  std::vector<int> out;
  for (int pid : reader_.ListPids()) {
    if (!m.comm.empty()) {
      std::string comm = reader_.ReadComm(pid);
      if (std::find(m.comm.begin(), m.comm.end(), comm) == m.comm.end()) continue;
    }
    if (cmdline_re_ && !re2::RE2::PartialMatch(reader_.ReadCmdline(pid), *cmdline_re_)) continue;
    if (!m.cgroup.empty() && !reader_.ReadCgroup(pid).starts_with(m.cgroup)) continue;
    out.push_back(pid);
  }
  return out;
}

ProcessCollector::Counters ProcessCollector::CountersOf(const ProcessInfo& p) const {
  double tps = ProcReader::TicksPerSecond();
  return Counters{static_cast<double>(p.stat.utime_ticks) / tps,
                  static_cast<double>(p.stat.stime_ticks) / tps,
                  static_cast<double>(p.stat.minor_faults),
                  static_cast<double>(p.stat.major_faults),
                  static_cast<double>(p.read_bytes),
                  static_cast<double>(p.write_bytes),
                  static_cast<double>(p.status.voluntary_ctxt),
                  static_cast<double>(p.status.nonvoluntary_ctxt)};
}

Status ProcessCollector::Collect(const CollectContext& ctx, MetricSink& sink) {
  std::vector<ProcessInfo> procs;
  std::map<std::pair<int, std::uint64_t>, Pss> pss_seen;
  for (int pid : MatchingPids()) {
    // PSS is read every pss_interval per member; a member new to the group (or whose pid was
    // reused, hence the start time in the key) is read at once.
    auto cached = pss_.lower_bound({pid, 0});
    const bool have = cached != pss_.end() && cached->first.first == pid;
    const bool due = !have || ctx.now - cached->second.read_at >= config_.pss_interval.count();
    Result<ProcessInfo> info = reader_.Read(pid, config_.threads, due);
    if (!info.ok()) continue;
    auto key = std::make_pair(pid, info->stat.start_ticks);
    if (due || cached->first != key) {
      if (!due) info = reader_.Read(pid, config_.threads, true);
      if (!info.ok()) continue;
      pss_seen[key] = {info->pss_bytes, info->swap_pss_bytes, info->smaps_denied, ctx.now};
    } else {
      pss_seen[key] = cached->second;
      info->pss_bytes = cached->second.pss;
      info->swap_pss_bytes = cached->second.swap_pss;
      info->smaps_denied = cached->second.denied;
    }
    procs.push_back(std::move(info.value()));
  }
  pss_ = std::move(pss_seen);

  // Counters: add each member's growth since it was last seen; a new member adds all it has.
  std::map<std::pair<int, std::uint64_t>, Counters> seen;
  for (const ProcessInfo& p : procs) {
    auto key = std::make_pair(p.pid, p.stat.start_ticks);
    Counters now = CountersOf(p);
    Counters before;
    if (auto it = last_.find(key); it != last_.end()) before = it->second;
    auto add = [](double& total, double cur, double prev) { total += std::max(0.0, cur - prev); };
    add(totals_.user, now.user, before.user);
    add(totals_.system, now.system, before.system);
    add(totals_.minor, now.minor, before.minor);
    add(totals_.major, now.major, before.major);
    add(totals_.read, now.read, before.read);
    add(totals_.write, now.write, before.write);
    add(totals_.vol, now.vol, before.vol);
    add(totals_.nonvol, now.nonvol, before.nonvol);
    seen[key] = now;
  }
  last_ = std::move(seen);

  double rss = 0, vms = 0, swap = 0, pss = 0, swap_pss = 0, peak = 0, threads = 0, fds = 0;
  double worst_fd_ratio = 0, oldest_start = 0;
  double fd_denied = 0, io_denied = 0, smaps_denied = 0;
  std::map<std::string, double> states{
      {"Running", 0}, {"Sleeping", 0}, {"Waiting", 0}, {"Zombie", 0}, {"Other", 0}};
  std::map<std::string, double> thread_states = states;
  double boot = static_cast<double>(reader_.BootTimeSeconds());
  for (const ProcessInfo& p : procs) {
    rss += static_cast<double>(p.status.rss_bytes);
    vms += static_cast<double>(p.stat.vsize_bytes);
    swap += static_cast<double>(p.status.swap_bytes);
    pss += static_cast<double>(p.pss_bytes);
    swap_pss += static_cast<double>(p.swap_pss_bytes);
    peak = std::max(peak, static_cast<double>(p.status.peak_rss_bytes));
    threads += static_cast<double>(p.stat.num_threads);
    fds += static_cast<double>(p.open_fds);
    fd_denied += p.fd_denied ? 1 : 0;
    io_denied += p.io_denied ? 1 : 0;
    smaps_denied += p.smaps_denied ? 1 : 0;
    if (p.max_fds > 0) {
      worst_fd_ratio = std::max(worst_fd_ratio,
                                static_cast<double>(p.open_fds) / static_cast<double>(p.max_fds));
    }
    double start = boot + static_cast<double>(p.stat.start_ticks) / ProcReader::TicksPerSecond();
    if (oldest_start == 0 || start < oldest_start) oldest_start = start;
    states[StateName(p.stat.state)] += 1;
    for (const auto& [s, n] : p.thread_states)
      thread_states[StateName(s)] += static_cast<double>(n);
  }

  Labels g{{"groupname", config_.name}};
  auto with = [&](std::string_view k, std::string_view v) {
    Labels l = g;
    l.Set(k, v);
    return l;
  };
  sink.Gauge(Name("num_procs"), "number of processes in this group", g,
             static_cast<double>(procs.size()));
  const char* cpu_help = "CPU seconds used by this group";
  sink.Counter(Name("cpu_seconds_total"), cpu_help, with("mode", "user"), totals_.user);
  sink.Counter(Name("cpu_seconds_total"), cpu_help, with("mode", "system"), totals_.system);
  const char* mem_help = "memory in use by this group, by type";
  sink.Gauge(Name("memory_bytes"), mem_help, with("memtype", "resident"), rss);
  sink.Gauge(Name("memory_bytes"), mem_help, with("memtype", "virtual"), vms);
  sink.Gauge(Name("memory_bytes"), mem_help, with("memtype", "swapped"), swap);
  sink.Gauge(Name("memory_bytes"), mem_help, with("memtype", "proportionalResident"), pss);
  sink.Gauge(Name("memory_bytes"), mem_help, with("memtype", "proportionalSwapped"), swap_pss);
  sink.Gauge(Name("num_threads"), "number of threads in this group", g, threads);
  sink.Gauge(Name("open_filedesc"), "number of open file descriptors in this group", g, fds);
  sink.Gauge(Name("worst_fd_ratio"), "the highest open fds / fd limit of the group's processes", g,
             worst_fd_ratio);
  sink.Gauge(Name("oldest_start_time_seconds"), "start time of the oldest process in the group", g,
             oldest_start);
  sink.Counter(Name("read_bytes_total"), "bytes read by this group", g, totals_.read);
  sink.Counter(Name("write_bytes_total"), "bytes written by this group", g, totals_.write);
  sink.Counter(Name("major_page_faults_total"), "major page faults of this group", g,
               totals_.major);
  sink.Counter(Name("minor_page_faults_total"), "minor page faults of this group", g,
               totals_.minor);
  const char* ctx_help = "context switches of this group";
  sink.Counter(Name("context_switches_total"), ctx_help, with("ctxswitchtype", "voluntary"),
               totals_.vol);
  sink.Counter(Name("context_switches_total"), ctx_help, with("ctxswitchtype", "nonvoluntary"),
               totals_.nonvol);
  for (const auto& [state, n] : states) {
    sink.Gauge(Name("states"), "number of processes in this group by state", with("state", state),
               n);
  }
  if (config_.threads) {
    for (const auto& [state, n] : thread_states) {
      sink.Gauge("vigil_process_group_threads_by_state", "threads of this group by state",
                 with("state", state), n);
    }
  }
  sink.Gauge("vigil_process_group_peak_resident_memory_bytes",
             "the highest peak RSS (VmHWM) among the group's processes", g, peak);
  // Members whose file the kernel refused: their fds, I/O or PSS above count as 0.
  const char* denied_help =
      "processes of this group whose /proc file vigil may not read (another user's, without "
      "CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH): their value of it is not counted";
  sink.Gauge("vigil_process_group_unreadable_procs", denied_help, with("file", "fd"), fd_denied);
  sink.Gauge("vigil_process_group_unreadable_procs", denied_help, with("file", "io"), io_denied);
  sink.Gauge("vigil_process_group_unreadable_procs", denied_help, with("file", "smaps_rollup"),
             smaps_denied);
  return Status::Ok();
}

SelfProcessCollector::SelfProcessCollector(std::string proc_root) : reader_(std::move(proc_root)) {}

Status SelfProcessCollector::Collect(const CollectContext&, MetricSink& sink) {
  Result<ProcessInfo> info = reader_.Read(static_cast<int>(getpid()), false);
  if (!info.ok()) return info.status();
  const ProcessInfo& p = *info;
  double tps = ProcReader::TicksPerSecond();
  sink.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {},
               static_cast<double>(p.stat.utime_ticks + p.stat.stime_ticks) / tps);
  sink.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
             static_cast<double>(p.status.rss_bytes));
  sink.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
             static_cast<double>(p.stat.vsize_bytes));
  sink.Gauge("process_open_fds", "Number of open file descriptors.", {},
             static_cast<double>(p.open_fds));
  sink.Gauge("process_max_fds", "Maximum number of open file descriptors.", {},
             p.max_fds ? static_cast<double>(p.max_fds) : std::numeric_limits<double>::infinity());
  sink.Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             {},
             static_cast<double>(reader_.BootTimeSeconds()) +
                 static_cast<double>(p.stat.start_ticks) / tps);
  sink.Gauge("vigil_threads", "Number of threads of the vigil process.", {},
             static_cast<double>(p.stat.num_threads));
  sink.Gauge("vigil_peak_resident_memory_bytes", "Peak resident memory (VmHWM) of vigil.", {},
             static_cast<double>(p.status.peak_rss_bytes));
  return Status::Ok();
}

}  // namespace vigil::collectors
