#include "collectors/process/process_collector.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/support/snapshot_util.h"

namespace vigil::collectors {
namespace {

namespace fs = std::filesystem;
using testing::FindValue;

const std::string kProc = std::string(VIGIL_TESTDATA_DIR) + "/proc";

Snapshot CollectOnce(ProcessCollector& c, TimestampMs now = 0) {
  MetricSink sink;
  REQUIRE(c.Collect(CollectContext{now, now + 1000}, sink).ok());
  return sink.Take();
}

TEST_CASE("stat parsing survives parentheses and spaces in comm", "[process]") {
  Result<ProcStat> st =
      ParseProcStat("42 (a) (b c) R 1 42 42 0 -1 0 11 0 12 0 13 14 0 0 20 0 5 0 99 1000 7 0\n");
  REQUIRE(st.ok());
  CHECK(st->comm == "a) (b c");
  CHECK(st->state == 'R');
  CHECK(st->minor_faults == 11);
  CHECK(st->major_faults == 12);
  CHECK(st->utime_ticks == 13);
  CHECK(st->stime_ticks == 14);
  CHECK(st->num_threads == 5);
  CHECK(st->start_ticks == 99);
  CHECK(st->vsize_bytes == 1000);
  CHECK(st->rss_pages == 7);
  CHECK_FALSE(ParseProcStat("42 (x) S 1 2").ok());
  CHECK_FALSE(ParseProcStat("garbage").ok());
}

TEST_CASE("status, smaps_rollup, io, limits and cgroup parsers", "[process]") {
  ProcStatus s = ParseProcStatus("VmHWM:\t 20 kB\nVmRSS:\t10 kB\nvoluntary_ctxt_switches:\t3\n");
  CHECK(s.rss_bytes == 10240);
  CHECK(s.peak_rss_bytes == 20480);
  CHECK(s.voluntary_ctxt == 3);
  CHECK(ParseSmapsRollup("Rss: 8 kB\nPss: 4 kB\nSwapPss: 1 kB\n") ==
        std::pair<std::uint64_t, std::uint64_t>{4096, 1024});
  CHECK(ParseProcIo("read_bytes: 10\nwrite_bytes: 20\n") ==
        std::pair<std::uint64_t, std::uint64_t>{10, 20});
  CHECK(ParseMaxOpenFiles("Max open files            1024                 4096    files\n") ==
        1024);
  CHECK(ParseMaxOpenFiles("Max open files            unlimited     unlimited     files\n") == 0);
  CHECK(ParseMaxOpenFiles("") == 0);
  CHECK(ParseCgroupV2Path("1:name=x:/a\n0::/system.slice/shop.service\n") ==
        "/system.slice/shop.service");
  CHECK(ParseBootTime("cpu 1\nbtime 1700000000\n") == 1700000000u);
  CHECK_FALSE(ParseBootTime("cpu 1\n").has_value());
}

TEST_CASE("A group matched by comm sums its processes with process-exporter names", "[process]") {
  ProcessGroupConfig config{"db", {{"postgres"}, "", "", "", false}, kProc, true};
  ProcessCollector c(config);
  Snapshot snap = CollectOnce(c);
  const Labels g{{"groupname", "db"}};
  // 200 and 201 match; 300 has comm postgres but an unreadable stat and is left out.
  CHECK(FindValue(snap, "namedprocess_namegroup_num_procs", g) == 2);
  CHECK(FindValue(snap, "namedprocess_namegroup_num_threads", g) == 2);
  CHECK(FindValue(snap, "namedprocess_namegroup_memory_bytes", {{"memtype", "resident"}}) ==
        (20480 + 4096) * 1024.0);
  // 200 hides smaps_rollup: PSS counts only 201.
  CHECK(FindValue(snap, "namedprocess_namegroup_memory_bytes",
                  {{"memtype", "proportionalResident"}}) == 2048 * 1024.0);
  CHECK(FindValue(snap, "namedprocess_namegroup_open_filedesc", g) == 5);
  CHECK(FindValue(snap, "namedprocess_namegroup_states", {{"state", "Waiting"}}) == 1);
  CHECK(FindValue(snap, "namedprocess_namegroup_states", {{"state", "Sleeping"}}) == 1);
  double tps = ProcReader::TicksPerSecond();
  CHECK(FindValue(snap, "namedprocess_namegroup_cpu_seconds_total", {{"mode", "user"}}) ==
        Approx(110 / tps));
  CHECK(FindValue(snap, "namedprocess_namegroup_oldest_start_time_seconds", g) ==
        Approx(1700000000 + 500 / tps));
  CHECK(FindValue(snap, "namedprocess_namegroup_worst_fd_ratio", g) == Approx(2.0 / 1024));
}

TEST_CASE("Matching by cmdline regex, cgroup and pidfile", "[process]") {
  ProcessGroupConfig by_cmdline{"pg-wal", {{}, "walwriter$", "", "", false}, kProc, false};
  ProcessCollector c1(by_cmdline);
  CHECK(FindValue(CollectOnce(c1), "namedprocess_namegroup_num_procs") == 1);

  ProcessGroupConfig by_cgroup{"shop", {{}, "", "", "/system.slice/shop (x)", false}, kProc, true};
  ProcessCollector c2(by_cgroup);
  Snapshot snap = CollectOnce(c2);
  CHECK(FindValue(snap, "namedprocess_namegroup_num_procs") == 1);
  CHECK(FindValue(snap, "vigil_process_group_threads_by_state", {{"state", "Running"}}) == 1);
  CHECK(FindValue(snap, "vigil_process_group_threads_by_state", {{"state", "Sleeping"}}) == 2);
  CHECK(FindValue(snap, "namedprocess_namegroup_read_bytes_total") == 4096);

  // A pidfile naming a process that does not exist: the group reports 0, not an error.
  ProcessGroupConfig by_pidfile{"gone", {{}, "", "/nonexistent/pidfile", "", false}, kProc, true};
  ProcessCollector c3(by_pidfile);
  CHECK(FindValue(CollectOnce(c3), "namedprocess_namegroup_num_procs") == 0);
}

TEST_CASE("A group keeps reporting when its processes go and counters never go down", "[process]") {
  fs::path root = fs::temp_directory_path() / ("vigil-proc-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::copy(kProc, root, fs::copy_options::recursive);
  ProcessGroupConfig config{"db", {{"postgres"}, "", "", "", false}, root.string(), true};
  ProcessCollector c(config);
  Snapshot first = CollectOnce(c);
  double cpu_before =
      *FindValue(first, "namedprocess_namegroup_cpu_seconds_total", {{"mode", "system"}});

  fs::remove_all(root / "200");  // postgres 200 exits
  Snapshot second = CollectOnce(c);
  CHECK(FindValue(second, "namedprocess_namegroup_num_procs") == 1);
  CHECK(*FindValue(second, "namedprocess_namegroup_cpu_seconds_total", {{"mode", "system"}}) ==
        cpu_before);

  fs::remove_all(root / "201");  // the whole group is gone
  Snapshot third = CollectOnce(c);
  CHECK(FindValue(third, "namedprocess_namegroup_num_procs") == 0);
  CHECK(FindValue(third, "namedprocess_namegroup_memory_bytes", {{"memtype", "resident"}}) == 0);
  CHECK(*FindValue(third, "namedprocess_namegroup_cpu_seconds_total", {{"mode", "system"}}) ==
        cpu_before);
  fs::remove_all(root);
}

TEST_CASE("PSS is read once per pss_interval and at once for a new member", "[process]") {
  fs::path root = fs::temp_directory_path() / ("vigil-proc-pss-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::copy(kProc, root, fs::copy_options::recursive);
  ProcessGroupConfig config{"db", {{"postgres"}, "", "", "", false}, root.string(), true};
  config.pss_interval = Duration(60000);
  ProcessCollector c(config);
  auto pss = [](const Snapshot& s) {
    return *FindValue(s, "namedprocess_namegroup_memory_bytes",
                      {{"memtype", "proportionalResident"}});
  };
  CHECK(pss(CollectOnce(c, 1000)) == 2048 * 1024.0);

  auto write_pss = [&](const std::string& pid, int kib) {
    std::ofstream(root / pid / "smaps_rollup")
        << "00400000-7ffd [rollup]\nRss: 9999 kB\nPss: " << kib << " kB\nSwapPss: 0 kB\n";
  };
  write_pss("201", 3072);
  CHECK(pss(CollectOnce(c, 31000)) == 2048 * 1024.0);  // within the interval: the last read
  CHECK(pss(CollectOnce(c, 61000)) == 3072 * 1024.0);  // due again

  // 200 had no readable smaps_rollup; now it has, but it was read at 61 s like 201.
  write_pss("200", 1024);
  CHECK(pss(CollectOnce(c, 62000)) == 3072 * 1024.0);
  // A new member (a copy of 201 as pid 202) is read at once.
  fs::copy(root / "201", root / "202", fs::copy_options::recursive);
  CHECK(pss(CollectOnce(c, 63000)) == (3072 + 3072) * 1024.0);
  CHECK(pss(CollectOnce(c, 121000)) == (1024 + 3072 + 3072) * 1024.0);

  config.pss_interval = Duration(0);  // every cycle
  ProcessCollector every(config);
  CHECK(pss(CollectOnce(every, 1000)) == (1024 + 3072 + 3072) * 1024.0);
  write_pss("202", 2048);
  CHECK(pss(CollectOnce(every, 1500)) == (1024 + 3072 + 2048) * 1024.0);
  fs::remove_all(root);
}

TEST_CASE("The self collector reads the agent's own process", "[process]") {
  SelfProcessCollector c;
  MetricSink sink;
  REQUIRE(c.Collect(CollectContext{}, sink).ok());
  Snapshot snap = sink.Take();
  CHECK(*FindValue(snap, "process_resident_memory_bytes") > 1e5);
  CHECK(*FindValue(snap, "vigil_threads") >= 1);
  CHECK(*FindValue(snap, "process_open_fds") >= 3);
}

}  // namespace
}  // namespace vigil::collectors
