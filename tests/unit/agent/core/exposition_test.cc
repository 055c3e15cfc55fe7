#include "agent/core/exposition.h"

#include <catch2/catch.hpp>

#include "agent/base/text_parser.h"
#include "agent/base/utf8.h"
#include "agent/core/self_metrics.h"

namespace vigil {
namespace {

TEST_CASE("Snapshots render as the text exposition format", "[exposition]") {
  MetricSink a;
  a.Gauge("redis_up", "Information about the Redis instance", {{"target", "cache"}}, 1);
  a.Counter("redis_commands_total", "Commands processed", {{"cmd", "get"}}, 42);
  a.Histogram("http_request_duration_seconds", "Latency", {{"route", "/a"}}, {{0.1, 3}, {0.5, 4}},
              1.25, 5);
  MetricSink b;
  b.Gauge("redis_up", "Information about the Redis instance", {{"target", "other"}}, 0);
  b.Counter("redis_up", "wrong type", {{"target", "third"}}, 1);  // refused by the sink
  CHECK(b.conflicts() == 1);
  MetricSink c;
  c.Counter("redis_up", "wrong type", {{"target", "third"}}, 1);  // dropped by the builder

  ExpositionBuilder builder;
  builder.Add(a.Take());
  builder.Add(b.Take());
  builder.Add(c.Take());
  CHECK(builder.dropped_families() == 1);
  std::string text = builder.Render();
  CHECK(text.find("# HELP redis_up Information about the Redis instance\n"
                  "# TYPE redis_up gauge\n"
                  "redis_up{target=\"cache\"} 1\n"
                  "redis_up{target=\"other\"} 0\n") != std::string::npos);
  CHECK(text.find("target=\"third\"") == std::string::npos);
  CHECK(text.find("# TYPE redis_commands_total counter\nredis_commands_total{cmd=\"get\"} 42\n") !=
        std::string::npos);
  CHECK(text.find("http_request_duration_seconds_bucket{route=\"/a\",le=\"0.1\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("http_request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 5\n") !=
        std::string::npos);
  CHECK(text.find("http_request_duration_seconds_sum{route=\"/a\"} 1.25\n") != std::string::npos);
  CHECK(text.find("http_request_duration_seconds_count{route=\"/a\"} 5\n") != std::string::npos);
}

TEST_CASE("Label values are escaped", "[exposition]") {
  MetricSink s;
  s.Gauge("x", "h", {{"q", "a\"b\\c\nd"}}, 1);
  ExpositionBuilder builder;
  builder.Add(s.Take());
  CHECK(builder.Render().find(R"(x{q="a\"b\\c\nd"} 1)") != std::string::npos);
}

TEST_CASE("Whatever a source sends, the page stays valid", "[exposition]") {
  // What a hostile target can put in a family once vigil has parsed it: a HELP holding
  // newlines (escaped `\n` in its text), backslashes, invalid UTF-8, bad names.
  ParsedExposition scraped = ParseExposition(
      "# HELP evil first\\nevil_injected 1\\\\ and \xFF\xFE\n"
      "# TYPE evil gauge\n"
      "evil{v=\"\xC3\x28\",w=\"a\\nb\"} 1\n");
  REQUIRE(scraped.errors.empty());
  REQUIRE(scraped.families.size() == 1);
  MetricFamily bad_name{"0bad-name", "h", MetricType::kGauge, {Sample{{}, 1}}};
  MetricFamily bad_label{
      "fine", "h", MetricType::kGauge, {Sample{{{"ok", "1"}}, 1}, Sample{{{"bad-label", "1"}}, 2}}};
  ExpositionBuilder builder;
  builder.Add(scraped.families);
  builder.Add(bad_name);
  builder.Add(bad_label);
  CHECK(builder.dropped_families() == 1);
  std::string text = builder.Render();
  INFO(text);
  CHECK(text.find("# HELP evil first\\nevil_injected 1\\\\ and \xEF\xBF\xBD\n") !=
        std::string::npos);
  CHECK(text.find("\nevil_injected") == std::string::npos);
  CHECK(text.find("evil{v=\"\xEF\xBF\xBD(\",w=\"a\\nb\"} 1\n") != std::string::npos);
  CHECK(text.find("fine{ok=\"1\"} 1\n") != std::string::npos);
  CHECK(text.find("bad-label") == std::string::npos);
  CHECK(text.find("0bad") == std::string::npos);
  // It parses back to exactly what went in, every text valid UTF-8.
  CHECK(IsValidUtf8(text));
  ParsedExposition again = ParseExposition(text);
  CHECK(again.errors.empty());
  REQUIRE(again.families.size() == 2);
  CHECK(again.families[0].help == "first\nevil_injected 1\\ and \xEF\xBF\xBD");
  CHECK(again.families[1].samples.size() == 1);
}

TEST_CASE("Agent self metrics describe every collector instance", "[exposition]") {
  CollectorState up;
  up.kind = "redis";
  up.target = "cache";
  up.up = true;
  up.skipped = 3;
  CollectorState down = up;
  down.target = "sessions";
  down.up = false;
  Snapshot snap = AgentSelfMetrics({up, down}, ReloadState{false, 0});
  ExpositionBuilder builder;
  builder.Add(snap);
  std::string text = builder.Render();
  CHECK(text.find("vigil_collector_up{collector=\"redis\",target=\"cache\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("vigil_collector_up{collector=\"redis\",target=\"sessions\"} 0\n") !=
        std::string::npos);
  CHECK(text.find("vigil_collector_skipped_total{collector=\"redis\",target=\"cache\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("vigil_config_last_reload_successful 0\n") != std::string::npos);
  CHECK(text.find("vigil_build_info{") != std::string::npos);
}

TEST_CASE("Floats format shortest round-trip", "[exposition]") {
  CHECK(FormatFloat(0.1) == "0.1");
  CHECK(FormatFloat(1e-05) == "1e-05");
  CHECK(FormatFloat(250) == "250");
  CHECK(FormatFloat(1.0 / 0.0) == "+Inf");
}

}  // namespace
}  // namespace vigil
