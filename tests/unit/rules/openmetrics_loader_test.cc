#include "rules/promql/openmetrics_loader.h"

#include <catch2/catch.hpp>

#include "rules/promql/label_matcher.h"

namespace vigil::promql {
namespace {

std::vector<Series> SelectName(const MemoryStorage& storage, const std::string& name) {
  auto m = LabelMatcher::Make(LabelMatcher::Type::kEqual, "__name__", name);
  REQUIRE(m.ok());
  auto got = storage.Select({*m}, 0, 1LL << 50);
  REQUIRE(got.ok());
  return *got;
}

TEST_CASE("openmetrics loader: series keep their full names, timestamps are seconds", "[promql]") {
  MemoryStorage storage;
  REQUIRE(LoadOpenMetrics("# TYPE lat histogram\n"
                          "lat_bucket{le=\"0.5\"} 3 100\n"
                          "lat_bucket{le=\"+Inf\"} 4 100\n"
                          "lat_sum 1.5 100\n"
                          "lat_count 4 100\n"
                          "lat_bucket{le=\"0.5\"} 5 115.5\n"
                          "up 1\n"
                          "# EOF\n",
                          &storage, 7000)
              .ok());
  CHECK(storage.SeriesCount() == 5);
  std::vector<Series> buckets = SelectName(storage, "lat_bucket");
  REQUIRE(buckets.size() == 2);
  for (const Series& s : buckets) {
    if (s.metric.Get("le") != "0.5") continue;
    REQUIRE(s.points.size() == 2);
    CHECK(s.points[0].t == 100000);
    CHECK(s.points[1].t == 115500);
    CHECK(s.points[1].v == 5);
  }
  std::vector<Series> up = SelectName(storage, "up");
  REQUIRE(up.size() == 1);
  CHECK(up[0].points.at(0).t == 7000);
}

TEST_CASE("openmetrics loader: the first bad line is the error and nothing is loaded", "[promql]") {
  MemoryStorage storage;
  Status s = LoadOpenMetrics("a 1 10\nb{x=\"1\" 2 10\nc 3 10\n", &storage);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().rfind("line 2: ", 0) == 0);
  CHECK(storage.SeriesCount() == 0);
}

}  // namespace
}  // namespace vigil::promql
