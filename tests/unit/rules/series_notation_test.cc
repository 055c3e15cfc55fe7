#include "rules/promql/series_notation.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "rules/promql/value.h"

namespace vigil::promql {
namespace {

TEST_CASE("Series notation expands like promtool", "[promql][series]") {
  auto v = ExpandSeriesValues("1+2x3 _ stale _x2 -1-1x1 5x2");
  REQUIRE(v.ok());
  REQUIRE(v->size() == 13);
  CHECK(*(*v)[0] == 1);
  CHECK(*(*v)[3] == 7);
  CHECK_FALSE((*v)[4].has_value());
  CHECK(IsStaleNaN(*(*v)[5]));
  CHECK_FALSE((*v)[6].has_value());
  CHECK_FALSE((*v)[7].has_value());
  CHECK(*(*v)[8] == -1);
  CHECK(*(*v)[9] == -2);
  CHECK(*(*v)[10] == 5);
  CHECK(*(*v)[12] == 5);
  CHECK(std::isinf(*(*ExpandSeriesValues("Inf"))[0]));
  CHECK(std::isnan(*(*ExpandSeriesValues("NaN"))[0]));
  CHECK(*(*ExpandSeriesValues("1e3"))[0] == 1000);
  CHECK_FALSE(ExpandSeriesValues("abc").ok());
  CHECK_FALSE(ExpandSeriesValues("1+2").ok());
}

}  // namespace
}  // namespace vigil::promql
