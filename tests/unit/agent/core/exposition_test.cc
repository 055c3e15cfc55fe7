#include "agent/core/exposition.h"

#include <catch2/catch.hpp>

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
