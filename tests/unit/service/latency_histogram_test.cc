#include "service/load/latency_histogram.h"

#include <catch2/catch.hpp>

namespace vigil::shop {
namespace {

TEST_CASE("latency histogram quantiles are within 2% above the true value") {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.Record(i * 1e-3);  // 1..1000 ms
  REQUIRE(h.Count() == 1000);
  CHECK(h.Quantile(0.5) >= 0.500);
  CHECK(h.Quantile(0.5) <= 0.500 * 1.021);
  CHECK(h.Quantile(0.99) >= 0.990);
  CHECK(h.Quantile(0.99) <= 0.990 * 1.021);
  CHECK(h.Max() >= 1.0);
  CHECK(h.Max() <= 1.021);
}

TEST_CASE("latency histogram clamps extremes and handles empty") {
  LatencyHistogram h;
  CHECK(h.Quantile(0.99) == 0);
  h.Record(0);
  h.Record(-1);
  h.Record(1e9);
  CHECK(h.Count() == 3);
  CHECK(LatencyHistogram::BucketOf(0) == 0);
  CHECK(LatencyHistogram::BucketOf(1e9) == LatencyHistogram::kBuckets - 1);
  CHECK(LatencyHistogram::UpperEdge(LatencyHistogram::kBuckets - 1) > 100);
}

TEST_CASE("latency histograms merge and subtract") {
  LatencyHistogram a, b, snapshot;
  for (int i = 0; i < 90; ++i) a.Record(0.001);
  snapshot.CopyFrom(a);
  for (int i = 0; i < 10; ++i) a.Record(0.100);
  a.Subtract(snapshot);
  CHECK(a.Count() == 10);
  CHECK(a.Quantile(0.5) == Approx(0.1).epsilon(0.02));
  b.Merge(a);
  b.Merge(snapshot);
  CHECK(b.Count() == 100);
  CHECK(b.Quantile(0.9) < 0.0011);
  CHECK(b.Quantile(0.95) > 0.09);
}

}  // namespace
}  // namespace vigil::shop
