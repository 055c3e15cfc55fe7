#include "rules/promql/engine.h"

#include <catch2/catch.hpp>
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

}  // namespace
}  // namespace vigil::promql
