#include "rules/promql/engine.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>

#include "rules/promql/memory_storage.h"

namespace vigil::promql {
namespace {

TEST_CASE("Engine enforces the sample limit", "[promql][engine]") {
  MemoryStorage st;
  for (int s = 0; s < 10; ++s) {
    for (int i = 0; i < 100; ++i) {
      st.Add(Labels{{"__name__", "x"}, {"i", std::to_string(s)}}, i * 1000, i);
    }
  }
  Engine small(EngineOptions{.lookback_delta_ms = 300000, .max_samples = 500});
  auto ok = small.InstantQuery(st, "sum(rate(x[40s]))", 99000);
  REQUIRE(ok.ok());
  auto bad = small.InstantQuery(st, "sum(rate(x[60s]))", 99000);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("too many samples") != std::string::npos);
  auto range = small.RangeQuery(st, "x", 0, 99000, 1000);
  REQUIRE_FALSE(range.ok());
  Engine big;
  CHECK(big.RangeQuery(st, "x", 0, 99000, 1000).ok());
}

TEST_CASE("Staleness marker uses Prometheus' NaN bit pattern", "[promql][engine]") {
  CHECK(IsStaleNaN(StaleNaN()));
  CHECK(std::isnan(StaleNaN()));
  CHECK_FALSE(IsStaleNaN(std::nan("")));
  MemoryStorage st;
  Labels l{{"__name__", "up"}};
  st.Add(l, 0, 1);
  st.Add(l, 15000, StaleNaN());
  Engine e;
  auto at10 = e.InstantQuery(st, "up", 10000);
  REQUIRE(at10.ok());
  CHECK(at10->vector.size() == 1);
  auto at20 = e.InstantQuery(st, "up", 20000);
  REQUIRE(at20.ok());
  CHECK(at20->vector.empty());
  auto count = e.InstantQuery(st, "count_over_time(up[1m])", 20000);
  REQUIRE(count.ok());
  REQUIRE(count->vector.size() == 1);
  CHECK(count->vector[0].v == 1);
}

TEST_CASE("Instant query results carry the evaluation time", "[promql][engine]") {
  MemoryStorage st;
  st.Add(Labels{{"__name__", "up"}}, 1000, 1);
  Engine e;
  auto r = e.InstantQuery(st, "up", 5000);
  REQUIRE(r.ok());
  REQUIRE(r->vector.size() == 1);
  CHECK(r->vector[0].t == 5000);
  auto m = e.InstantQuery(st, "up[10s]", 5000);
  REQUIRE(m.ok());
  REQUIRE(m->type == ValueType::kMatrix);
  REQUIRE(m->matrix.size() == 1);
  CHECK(m->matrix[0].points[0].t == 1000);
}

TEST_CASE("Subqueries step on multiples of the step and reuse steps across a range query",
          "[promql][engine][subquery]") {
  MemoryStorage st;
  for (int i = 0; i <= 600; ++i) st.Add(Labels{{"__name__", "x"}}, i * 1000, i);
  Engine e;
  // At 95 s, [35s:20s] steps at 60 s and 80 s: the multiples of 20 s in [60 s, 95 s], both
  // ends included.
  auto m = e.InstantQuery(st, "x[35s:20s]", 95000);
  REQUIRE(m.ok());
  REQUIRE(m->matrix.size() == 1);
  REQUIRE(m->matrix[0].points.size() == 2);
  CHECK(m->matrix[0].points[0].t == 60000);
  CHECK(m->matrix[0].points[0].v == 60);
  CHECK(m->matrix[0].points[1].t == 80000);
  // A range query (steps reused from one evaluation time to the next) equals instant queries
  // at each of its times (every step computed afresh).
  const char* q = "sum_over_time(max_over_time(x[20s:3s])[45s:7s])";
  auto range = e.RangeQuery(st, q, 100000, 400000, 11000);
  REQUIRE(range.ok());
  REQUIRE(range->matrix.size() == 1);
  const auto& pts = range->matrix[0].points;
  REQUIRE(pts.size() == 28);
  for (const Point& p : pts) {
    auto one = e.InstantQuery(st, q, p.t);
    REQUIRE(one.ok());
    REQUIRE(one->vector.size() == 1);
    CHECK(one->vector[0].v == p.v);
  }
}

TEST_CASE("A subquery of too many steps is refused, a slow one stops at the deadline",
          "[promql][engine][subquery][limits]") {
  MemoryStorage st;
  st.Add(Labels{{"__name__", "x"}}, 0, 1);
  Engine small(EngineOptions{.max_samples = 1000});
  // 10,000 steps of nothing: still 10,000 evaluations, refused before the first.
  auto many = small.InstantQuery(st, "count_over_time(nonexistent[10000s:1s])", 20000000);
  REQUIRE_FALSE(many.ok());
  CHECK(many.status().message().find("too many samples") != std::string::npos);
  // A year of 1 ms steps (3e10) under a limit above that: the deadline ends it.
  Engine e(EngineOptions{.max_samples = 1'000'000'000'000});
  auto t0 = std::chrono::steady_clock::now();
  auto slow = e.InstantQuery(st, "count_over_time(nonexistent[1y:1ms])", 40000000000,
                             QueryContext::WithTimeout(std::chrono::milliseconds(200)));
  REQUIRE_FALSE(slow.ok());
  CHECK(slow.status().code() == Status::Code::kDeadlineExceeded);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
}

TEST_CASE("@ pins a selector to a time, start() and end() to the query's", "[promql][engine]") {
  MemoryStorage st;
  for (int i = 0; i <= 100; ++i) st.Add(Labels{{"__name__", "x"}}, i * 10000, i);
  Engine e;
  auto at =
      e.RangeQuery(st, "x @ 200 + x @ start() - x @ end() offset 10s", 300000, 500000, 100000);
  REQUIRE(at.ok());
  REQUIRE(at->matrix.size() == 1);
  REQUIRE(at->matrix[0].points.size() == 3);
  // x@200 = 20, x@start() = 30, x@end() offset 10s = 49: 20 + 30 - 49 at every step.
  for (const Point& p : at->matrix[0].points) CHECK(p.v == 1);
}

TEST_CASE("The date functions read UTC calendar fields as Go does", "[promql][engine]") {
  MemoryStorage st;
  Engine e;
  auto one = [&](const std::string& q) {
    auto r = e.InstantQuery(st, q, 0);
    REQUIRE(r.ok());
    REQUIRE(r->vector.size() == 1);
    return r->vector[0].v;
  };
  CHECK(one("day_of_month(vector(951782400))") == 29);  // 2000-02-29
  CHECK(one("days_in_month(vector(951782400))") == 29);
  CHECK(one("days_in_month(vector(4105123200))") == 28);  // 2100-02: not a leap year
  CHECK(one("day_of_year(vector(978220800))") == 366);    // 2000-12-31
  CHECK(one("day_of_week(vector(-86400))") == 3);         // 1969-12-31, a Wednesday
  CHECK(one("year(vector(-86400))") == 1969);
  CHECK(one("hour(vector(-1))") == 23);
  CHECK(one("minute(vector(3599))") == 59);
  CHECK(one("month(vector(1700000000))") == 11);
}

}  // namespace
}  // namespace vigil::promql
