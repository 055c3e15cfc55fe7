// pg_stat_statements under churn: `pg_stat_statements.max = 100` with ~200 distinct statements
// (deallocations all the time) and two pg_stat_statements_reset() calls, while vigil collects
// statements every second. vigil's totals must stay monotonic without spikes (each step at
// most what was executed around it), no rate may be negative, and the deallocation counter
// must grow.
#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <thread>

#include "collectors/postgres/pg_connection.h"
#include "tests/reliability/harness.h"

namespace vigil::reliability {
namespace {

TEST_CASE("pg_stat_statements resets and deallocation storms give no negative rates or spikes",
          "[integration][reliability]") {
  TempDir dir("pgss");
  Server pg("postgres", dir.path / "pg", "VIGIL_PG_OPTS='-c pg_stat_statements.max=100'");
  collectors::PgConnection c;
  REQUIRE(
      c.Connect(collectors::PgConnectOptions{"host=127.0.0.1 port=" + std::to_string(pg.port()) +
                                                 " dbname=postgres user=postgres",
                                             "", "", Duration(5000), Duration(10000)})
          .ok());
  auto exec = [&](const std::string& sql) {
    Result<collectors::QueryResult> r = c.Query(sql);
    if (!r.ok()) FAIL(sql << ": " << r.status().message());
  };
  REQUIRE(c.Query("SHOW pg_stat_statements.max").ok());
  constexpr int kTables = 200;
  for (int i = 0; i < kTables; ++i)
    exec("CREATE TABLE IF NOT EXISTS churn_" + std::to_string(i) + " (a int)");

  WriteFile(dir.path / "vigil.yml",
            "global: {collect_interval: 1s, collect_timeout: 900ms}\n"
            "postgres:\n  - name: pg\n    dsn: \"host=127.0.0.1 port=" +
                std::to_string(pg.port()) +
                " dbname=postgres user=postgres\"\n    databases: [postgres]\n"
                "    statements: {enabled: true, interval: 1s, top_n: 10}\n");
  Vigil vigil(dir.path / "vigil.yml", dir.path / "vigil.log");
  REQUIRE(WaitFor(
      [&] {
        std::string m = vigil.Get("/metrics").value_or("");
        return SampleValue(m, "vigil_pg_statements_calls_total").has_value() &&
               SampleValue(m, "pg_stat_statements_deallocations_total").has_value();
      },
      15s));

  struct Point {
    double t, calls, deallocs;
    long executed;
  };
  std::vector<Point> points;
  std::vector<std::pair<double, long>> executed_at;  // (time, statements run so far)
  long executed = 0;
  int negative_rates = 0;
  std::mt19937 rng(42);
  auto t0 = Clock::now();
  int resets = 0;
  double next_poll = 0;
  while (SecondsSince(t0) < 14) {
    // ~20 distinct statements per 50 ms, over 200 tables: the 100 slots churn.
    for (int k = 0; k < 20; ++k) {
      exec("SELECT count(*) FROM churn_" + std::to_string(rng() % kTables));
      ++executed;
    }
    double now = SecondsSince(t0);
    if ((now > 4 && resets == 0) || (now > 9 && resets == 1)) {
      exec("SELECT pg_stat_statements_reset()");
      ++executed;
      ++resets;
    }
    executed_at.push_back({now, executed});
    if (now >= next_poll) {
      next_poll = now + 0.25;
      std::string m = vigil.Get("/metrics").value_or("");
      if (m.empty()) continue;
      points.push_back({now, SampleSum(m, "vigil_pg_statements_calls_total"),
                        SampleSum(m, "pg_stat_statements_deallocations_total"), executed});
      for (double v : SampleValues(m, "vigil_pg_statement_calls_per_second")) {
        if (v < 0) ++negative_rates;
      }
      for (const char* name :
           {"vigil_pg_statement_exec_seconds_per_second", "vigil_pg_statement_rows_per_second",
            "vigil_pg_statement_mean_exec_seconds"}) {
        for (double v : SampleValues(m, name)) {
          if (v < 0) ++negative_rates;
        }
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(points.size() > 20);
  // Statements run in [from, to]: what one step of the totals may add. vigil reads the view
  // every second, so a step may carry up to ~2 s of statements; its own queries add a few
  // hundred at most.
  auto run_between = [&](double from, double to) {
    long a = 0, b = 0;
    for (auto& [t, n] : executed_at) {
      if (t <= from) a = n;
      if (t <= to) b = n;
    }
    return b - a;
  };
  int decreases = 0, spikes = 0;
  double max_step = 0;
  for (std::size_t i = 1; i < points.size(); ++i) {
    double step = points[i].calls - points[i - 1].calls;
    if (step < 0) ++decreases;
    double allowed = static_cast<double>(run_between(points[i - 1].t - 3, points[i].t)) + 300;
    if (step > allowed) {
      ++spikes;
      UNSCOPED_INFO("spike at " << points[i].t << "s: +" << step << " > " << allowed);
    }
    max_step = std::max(max_step, step);
  }
  double total_seen = points.back().calls - points.front().calls;
  double total_run = static_cast<double>(points.back().executed - points.front().executed);
  std::printf(
      "pg_stat_statements storm: %ld statements run, %d resets; vigil's calls_total grew %.0f "
      "(largest step %.0f), %d decreases, %d spikes, %d negative rates; deallocations %.0f -> "
      "%.0f\n",
      executed, resets, total_seen, max_step, decreases, spikes, negative_rates,
      points.front().deallocs, points.back().deallocs);
  std::fflush(stdout);
  CHECK(resets == 2);
  CHECK(decreases == 0);
  CHECK(spikes == 0);
  CHECK(negative_rates == 0);
  CHECK(points.back().deallocs > points.front().deallocs);
  // Nothing counted twice overall (deallocated entries lose what they had since the last read,
  // so vigil may count less than was run, never much more).
  CHECK(total_seen <= total_run * 1.05 + 14 * 300);
}

}  // namespace
}  // namespace vigil::reliability
