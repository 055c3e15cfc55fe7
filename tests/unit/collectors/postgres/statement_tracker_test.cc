#include "collectors/postgres/statement_tracker.h"

#include <catch2/catch.hpp>

#include "tests/support/snapshot_util.h"

namespace vigil::collectors {
namespace {

using testing::FindValue;

StatementRow Row(std::int64_t queryid, double calls, double exec_ms, double rows = 0,
                 std::uint32_t dbid = 1) {
  StatementRow r;
  r.key = StatementKey{10, dbid, queryid, true};
  r.counters[kCalls] = calls;
  r.counters[kExecMs] = exec_ms;
  r.counters[kRows] = rows;
  return r;
}

Snapshot Emit(const StatementTracker& t) {
  MetricSink sink;
  t.Emit(sink);
  return sink.Take();
}

Labels Q(std::int64_t queryid) {
  return Labels{{"queryid", std::to_string(queryid)}, {"datname", "shop"}, {"user", "app"}};
}

TEST_CASE("The first read is a baseline, the next gives per-interval rates", "[statements]") {
  StatementTracker t(StatementsOptions{});
  t.SetNames({{1, "shop"}}, {{10, "app"}});
  t.Update({Row(1, 100, 1000), Row(2, 10, 50)}, 0, 0);
  CHECK_FALSE(t.has_interval());
  CHECK(FindValue(Emit(t), "vigil_pg_statement_calls_per_second") == std::nullopt);

  t.Update({Row(1, 160, 1600), Row(2, 10, 50)}, 60'000, 0);
  REQUIRE(t.has_interval());
  Snapshot s = Emit(t);
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(1)) == Approx(1.0));
  CHECK(FindValue(s, "vigil_pg_statement_exec_seconds_per_second", Q(1)) == Approx(0.01));
  CHECK(FindValue(s, "vigil_pg_statement_mean_exec_seconds", Q(1)) == Approx(0.01));
  // Statement 2 did nothing in the interval: not in any top set, no series.
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(2)) == std::nullopt);
  CHECK(FindValue(s, "vigil_pg_statements_calls_total", {{"datname", "shop"}}) == 60);
  CHECK(FindValue(s, "vigil_pg_statements_exec_seconds_total", {{"datname", "shop"}}) ==
        Approx(0.6));
}

TEST_CASE("New, re-created and reset statements never give negative deltas", "[statements]") {
  StatementTracker t(StatementsOptions{});
  t.SetNames({{1, "shop"}}, {{10, "app"}});
  t.Update({Row(1, 100, 1000), Row(2, 50, 500)}, 0, 1000);
  // 3 is new: all it has happened in the interval. 2 was deallocated and re-created: its
  // calls went down, so it counts what it has now, not a negative delta.
  t.Update({Row(1, 110, 1100), Row(2, 5, 40), Row(3, 7, 70)}, 10'000, 1000);
  Snapshot s = Emit(t);
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(1)) == Approx(1.0));
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(2)) == Approx(0.5));
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(3)) == Approx(0.7));
  CHECK(FindValue(s, "vigil_pg_statements_calls_total", {{"datname", "shop"}}) == 22);

  // pg_stat_statements_reset(): stats_reset changes, everything counts from zero.
  t.Update({Row(1, 4, 40)}, 20'000, 2000);
  s = Emit(t);
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(1)) == Approx(0.4));
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(3)) == std::nullopt);
  // Totals stay monotonic across the reset.
  CHECK(FindValue(s, "vigil_pg_statements_calls_total", {{"datname", "shop"}}) == 26);
  CHECK(t.tracked() == 1);
}

TEST_CASE("Top N per ranking plus an 'other' bucket keep sums right and series bounded",
          "[statements]") {
  StatementTracker t(StatementsOptions{.top_n = 3});
  t.SetNames({{1, "shop"}}, {{10, "app"}});
  std::vector<StatementRow> before, after;
  for (int q = 1; q <= 1000; ++q) {
    before.push_back(Row(q, 0, 0));
    // calls rank 1000..1 ascending by q; time ranks by q descending; rows only for q=500.
    after.push_back(Row(q, q, 1001 - q, q == 500 ? 1e6 : 0));
  }
  t.Update(before, 0, 0);
  t.Update(after, 1000, 0);
  Snapshot s = Emit(t);
  std::size_t top_series = 0;
  double sum_calls = 0;
  for (const MetricFamily& f : s) {
    if (f.name != "vigil_pg_statement_calls_per_second") continue;
    for (const Sample& x : f.samples) {
      sum_calls += x.value;
      if (x.labels.Get("queryid") != "other") ++top_series;
    }
  }
  // calls top 3: 1000, 999, 998; time top 3: 1, 2, 3; rows: 500 (+ two with 0 rows are not
  // taken); the union has 7.
  CHECK(top_series == 7);
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(500)) == Approx(500));
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(1000)).has_value());
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", Q(1)).has_value());
  CHECK_FALSE(FindValue(s, "vigil_pg_statement_calls_per_second", Q(600)).has_value());
  CHECK(sum_calls == Approx(1000.0 * 1001 / 2));  // top + other == everything
  CHECK(FindValue(s, "vigil_pg_statement_calls_per_second", {{"queryid", "other"}}).has_value());
}

TEST_CASE("Texts are fetched once for new top statements, normalized and bounded", "[statements]") {
  StatementTracker t(StatementsOptions{.top_n = 5, .text_length = 20});
  t.Update({Row(1, 0, 0)}, 0, 0);
  t.Update({Row(1, 5, 5)}, 1000, 0);
  REQUIRE(t.MissingTexts().size() == 1);
  t.SetText(StatementKey{10, 1, 1, true}, "SELECT *\n   FROM  orders\tWHERE user_id = $1 AND x");
  CHECK(t.MissingTexts().empty());
  Snapshot s = Emit(t);
  CHECK(FindValue(s, "vigil_pg_statement_info", {{"query", "SELECT * FROM orders..."}}) == 1);
  CHECK(t.DetailsJson().find("WHERE user_id = $1 AND x") != std::string::npos);
  CHECK(StatementTracker::NormalizeText("  a  b ", 10) == "a b");
  CHECK(StatementTracker::NormalizeText("h\xc3\xa9llo w", 3) == "h\xc3\xa9l...");
}

TEST_CASE("Statement texts are kept with their literals masked", "[statements]") {
  // pg_stat_statements keeps utility statements verbatim, passwords included.
  StatementTracker t(StatementsOptions{.top_n = 5, .text_length = 200});
  t.Update({Row(1, 0, 0)}, 0, 0);
  t.Update({Row(1, 5, 5)}, 1000, 0);
  t.SetText(StatementKey{10, 1, 1, true}, "ALTER ROLE app\n  PASSWORD 'hunter2-secret'");
  Snapshot s = Emit(t);
  CHECK(FindValue(s, "vigil_pg_statement_info", {{"query", "ALTER ROLE app PASSWORD ?"}}) == 1);
  CHECK(t.DetailsJson().find("ALTER ROLE app PASSWORD ?") != std::string::npos);
  CHECK(t.DetailsJson().find("hunter2") == std::string::npos);
}

}  // namespace
}  // namespace vigil::collectors
