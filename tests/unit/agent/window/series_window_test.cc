#include "agent/window/series_window.h"

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>

#include "rules/promql/engine.h"

namespace vigil {
namespace {

using promql::LabelMatcher;

LabelMatcher Eq(const std::string& name, const std::string& value) {
  return *LabelMatcher::Make(LabelMatcher::Type::kEqual, name, value);
}

TEST_CASE("XOR chunks round-trip exact bits, irregular timestamps included", "[window]") {
  std::mt19937_64 rng(42);
  std::vector<std::pair<TimestampMs, double>> in;
  TimestampMs t = 1'700'000'000'000;
  const double specials[] = {0.0,
                             -0.0,
                             1.0,
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::quiet_NaN(),
                             promql::StaleNaN(),
                             1e-300,
                             -123456.789};
  for (int i = 0; i < XorChunk::kMaxSamples; ++i) {
    // Regular steps, jitter, and a few huge jumps (every delta-of-delta bucket).
    TimestampMs step = i % 17 == 0 ? 8192 : i % 29 == 0 ? 40'000'000 : 15'000 + (i % 3) * 7;
    t += step;
    double v = i < 9 ? specials[i] : (i % 5 == 0 ? static_cast<double>(rng()) : 100.0 + i % 4);
    in.push_back({t, v});
  }
  XorChunk chunk;
  for (const auto& [ts, v] : in) REQUIRE(chunk.Append(ts, v));
  CHECK_FALSE(chunk.Append(t + 1, 1.0));  // full
  std::vector<std::pair<TimestampMs, double>> out;
  chunk.ForEach([&](TimestampMs ts, double v) { out.push_back({ts, v}); });
  REQUIRE(out.size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO(i);
    CHECK(out[i].first == in[i].first);
    CHECK(std::bit_cast<std::uint64_t>(out[i].second) ==
          std::bit_cast<std::uint64_t>(in[i].second));
  }
}

TEST_CASE("A slowly changing series at a regular interval takes few bytes per sample", "[window]") {
  XorChunk chunk;
  for (int i = 0; i < XorChunk::kMaxSamples; ++i) chunk.Append(i * 15'000, 1000 + i);
  CHECK(chunk.bytes() < 16 * XorChunk::kMaxSamples / 3);  // well under raw 16 B/sample
}

TEST_CASE("The window stores collections, marks vanished series stale, and answers PromQL",
          "[window]") {
  SeriesWindow window(std::chrono::minutes(30));
  MetricSink a;
  a.Counter("requests_total", "", {{"code", "200"}}, 10);
  a.Counter("requests_total", "", {{"code", "500"}}, 1);
  window.Ingest("shop", a.Take(), 1'000'000);
  MetricSink b;
  b.Counter("requests_total", "", {{"code", "200"}}, 70);
  window.Ingest("shop", b.Take(), 1'060'000);

  auto all = window.Select({Eq("__name__", "requests_total")}, 0, 2'000'000);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  auto five = window.Select({Eq("__name__", "requests_total"), Eq("code", "500")}, 0, 2'000'000);
  REQUIRE(five->size() == 1);
  REQUIRE((*five)[0].points.size() == 2);
  CHECK(promql::IsStaleNaN((*five)[0].points[1].v));  // gone in the second collection
  CHECK((*five)[0].points[1].t == 1'060'000);

  promql::Engine engine;
  auto r = engine.InstantQuery(window, "increase(requests_total{code=\"200\"}[2m])", 1'060'000);
  REQUIRE(r.ok());
  REQUIRE(r->vector.size() == 1);
  CHECK(r->vector[0].v > 60);  // 60 over 60s, extrapolated
  // The stale series no longer answers an instant query after its marker.
  auto instant = engine.InstantQuery(window, "requests_total", 1'060'000);
  REQUIRE(instant.ok());
  CHECK(instant->vector.size() == 1);
}

TEST_CASE("Histograms are stored as their flat series, retention drops old samples", "[window]") {
  SeriesWindow window(std::chrono::minutes(5));
  for (int i = 0; i < 300; ++i) {
    MetricSink s;
    s.Histogram("lat_seconds", "", {}, {{0.1, 1.0 * i}, {1, 2.0 * i}}, 0.5 * i, 2.0 * i);
    window.Ingest("src", s.Take(), i * 15'000);
  }
  auto buckets = window.Select({Eq("__name__", "lat_seconds_bucket")}, 0, 300 * 15'000);
  REQUIRE(buckets.ok());
  CHECK(buckets->size() == 3);  // le=0.1, 1, +Inf
  window.Compact(300 * 15'000);
  WindowStats st = window.Stats();
  CHECK(st.series == 5);
  CHECK(st.samples < 5 * 150);  // most of the 300 cycles (75 min) are past the 5m window
  CHECK(st.samples >= 5 * 20);
  CHECK(st.bytes / st.samples < 8);

  // A source that goes away: its series go stale and leave the window after retention.
  window.DropSource("src", 300 * 15'000);
  window.Compact(300 * 15'000 + 3'600'000);
  CHECK(window.Stats().series == 0);
}

Snapshot Series(const std::string& name, int from, int to) {
  MetricSink s;
  for (int i = from; i < to; ++i) s.Gauge(name, "", {{"i", std::to_string(i)}}, i);
  return s.Take();
}

std::uint64_t RefusedOf(const SeriesWindow& window, const std::string& source) {
  for (const auto& [src, n] : window.Refused()) {
    if (src == source) return n;
  }
  return ~0ull;  // no counter at all
}

TEST_CASE("The per-source cap refuses a source's new series and keeps its existing ones",
          "[window][limits]") {
  SeriesWindow window(std::chrono::minutes(30));
  window.SetLimits({/*max_series=*/1000, /*max_series_per_source=*/10});
  window.Ingest("scrape/big", Series("m", 0, 8), 1'000'000);
  window.Ingest("scrape/other", Series("o", 0, 3), 1'000'000);
  CHECK(RefusedOf(window, "scrape/big") == 0);  // exported at 0 before the first refusal
  // 8 known + 12 new: 2 new fit under the cap of 10, the 10 others are refused.
  window.Ingest("scrape/big", Series("m", 0, 20), 1'015'000);
  CHECK(RefusedOf(window, "scrape/big") == 10);
  CHECK(RefusedOf(window, "scrape/other") == 0);
  CHECK(window.Stats().series == 13);
  // The 8 existing series kept appending: two samples each.
  auto old = window.Select({Eq("__name__", "m"), Eq("i", "3")}, 0, 2'000'000);
  REQUIRE(old.ok());
  REQUIRE(old->size() == 1);
  CHECK((*old)[0].points.size() == 2);
  CHECK(window.Select({Eq("__name__", "m"), Eq("i", "15")}, 0, 2'000'000)->empty());
  // Another source is not held back by the first one's cap.
  window.Ingest("scrape/other", Series("o", 0, 10), 1'015'000);
  CHECK(RefusedOf(window, "scrape/other") == 0);
  CHECK(window.Stats().series == 20);
  // Refused again at every collection: the counter grows, memory does not.
  WindowStats before = window.Stats();
  window.Ingest("scrape/big", Series("m", 0, 20), 1'030'000);
  CHECK(RefusedOf(window, "scrape/big") == 20);
  CHECK(window.Stats().series == before.series);
}

TEST_CASE("The global cap refuses new series of every source and of rule output",
          "[window][limits]") {
  SeriesWindow window(std::chrono::minutes(30));
  window.SetLimits({/*max_series=*/50, /*max_series_per_source=*/1000});
  CHECK(window.limits().max_series == 50);
  window.Ingest("a", Series("a", 0, 40), 1'000'000);
  window.Ingest("b", Series("b", 0, 40), 1'000'000);
  CHECK(window.Stats().series == 50);
  CHECK(RefusedOf(window, "a") == 0);
  CHECK(RefusedOf(window, "b") == 30);
  window.Append({{"__name__", "rule:new"}}, 1'000'000, 1);
  CHECK(RefusedOf(window, kRuleOutputSource) == 1);
  CHECK(window.Select({Eq("__name__", "rule:new")}, 0, 2'000'000)->empty());
  // An existing series still appends at the cap, by Append too.
  window.Append({{"__name__", "a"}, {"i", "1"}}, 1'010'000, 7);
  auto a1 = window.Select({Eq("__name__", "a"), Eq("i", "1")}, 0, 2'000'000);
  REQUIRE(a1->size() == 1);
  CHECK((*a1)[0].points.back().v == 7);
  // Series that leave the window (stale, then past retention) make room again.
  window.DropSource("b", 1'020'000);
  window.Compact(1'020'000 + 3'600'000);
  CHECK(window.Stats().series == 40);
  window.Ingest("b", Series("b", 0, 10), 1'020'000 + 3'600'000);
  CHECK(window.Stats().series == 50);
  CHECK(RefusedOf(window, "b") == 30);
}

}  // namespace
}  // namespace vigil
