#include "collectors/scrape/text_parser.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tests/support/snapshot_util.h"

namespace vigil {
namespace {

using testing::FindValue;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(VIGIL_TESTDATA_DIR) + "/scrape/" + name, std::ios::binary);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const MetricFamily& Family(const Snapshot& s, const std::string& name) {
  for (const MetricFamily& f : s) {
    if (f.name == name) return f;
  }
  FAIL("no family " << name);
  throw std::logic_error("unreachable");
}

TEST_CASE("exposition: types, help, escapes, special values, timestamps", "[scrape]") {
  ParsedExposition p = ParseExposition(ReadFixture("good.prom"));
  for (const auto& e : p.errors) UNSCOPED_INFO(e.message);
  CHECK(p.errors.empty());
  CHECK(p.samples == 23);

  const MetricFamily& req = Family(p.families, "http_requests_total");
  CHECK(req.type == MetricType::kCounter);
  CHECK(req.help == "Requests handled, by method and code.");
  REQUIRE(req.samples.size() == 2);
  CHECK(req.samples[0].timestamp == 1395066363000);
  CHECK(req.samples[1].labels.Get("code") == "400");
  CHECK(req.samples[1].value == 3);

  const MetricFamily& msdos = Family(p.families, "msdos_file_access_time_seconds");
  CHECK(msdos.help == "Escapes: a backslash \\ and a newline \n in help.");
  CHECK(msdos.samples[0].labels.Get("path") == "C:\\DIR\\FILE.TXT");
  CHECK(msdos.samples[0].labels.Get("error") == "Cannot find file:\n\"FILE.TXT\"");
  CHECK(msdos.samples[0].value == 1.458255915e9);

  CHECK(FindValue(p.families, "temperature", {{"room", "a b"}}) == -3.5);
  CHECK(Family(p.families, "temperature").samples[1].value == 7);
  CHECK(Family(p.families, "metric_without_timestamp_and_labels").type == MetricType::kUntyped);
  const MetricFamily& weird = Family(p.families, "something_weird");
  CHECK(std::isinf(weird.samples[0].value));
  CHECK(weird.samples[0].value > 0);
  CHECK(weird.samples[0].timestamp == -3982045);
  CHECK(FindValue(p.families, "negative_infinity") == -INFINITY);
  CHECK(std::isnan(*FindValue(p.families, "not_a_number")));
  CHECK(FindValue(p.families, "indented_with_tab", {{"job", "scraped"}}) == 1);

  const MetricFamily& h = Family(p.families, "http_request_duration_seconds");
  CHECK(h.type == MetricType::kHistogram);
  CHECK(h.samples.size() == 8);
  CHECK(FindValue(p.families, "http_request_duration_seconds", {{"le", "+Inf"}},
                  SampleSuffix::kBucket) == 144320);
  CHECK(FindValue(p.families, "http_request_duration_seconds", {}, SampleSuffix::kSum) == 53423);
  CHECK(FindValue(p.families, "http_request_duration_seconds", {}, SampleSuffix::kCount) == 144320);

  const MetricFamily& s = Family(p.families, "rpc_duration_seconds");
  CHECK(s.type == MetricType::kSummary);
  CHECK(s.samples.size() == 5);
  CHECK(FindValue(p.families, "rpc_duration_seconds", {{"quantile", "0.99"}}) == 76656);
  CHECK(FindValue(p.families, "rpc_duration_seconds", {}, SampleSuffix::kSum) == 1.7560473e+07);
  CHECK(FindValue(p.families, "rpc_duration_seconds", {}, SampleSuffix::kCount) == 2693);
  // No stray families for the suffixed series.
  for (const MetricFamily& f : p.families) {
    CHECK_FALSE(f.name.ends_with("_bucket"));
    CHECK_FALSE(f.name.ends_with("_count"));
  }
}

TEST_CASE("exposition: bad lines are reported with their numbers, the rest is kept", "[scrape]") {
  ParsedExposition p = ParseExposition(ReadFixture("malformed.prom"));
  std::vector<std::string> messages;
  for (const auto& e : p.errors) messages.push_back(e.message);
  std::vector<std::string> want = {
      "line 3: unexpected character '}'",
      "line 4: invalid value \"abc\"",
      "line 5: missing value",
      "line 6: invalid escape sequence '\\q' in label value",
      "line 7: unterminated label value",
      "line 8: duplicate label name \"a\"",
      "line 9: unexpected character '9'",
      "line 10: invalid timestamp \"12.5\"",
      "line 11: second TYPE line for good_total",
      "line 12: invalid metric type \"distribution\"",
      "line 14: histogram bucket h_bucket without \"le\" label",
      "line 15: sample h of histogram needs a _bucket, _sum or _count suffix",
      "line 17: unexpected text after timestamp",
  };
  CHECK(messages == want);
  CHECK(p.errors[0].line == 3);
  CHECK(p.samples == 3);
  const MetricFamily& good = Family(p.families, "good_total");
  CHECK(good.type == MetricType::kCounter);
  REQUIRE(good.samples.size() == 2);
  CHECK(good.samples[1].value == 10);
  CHECK(FindValue(p.families, "good_gauge", {{"path", "/a"}}) == 8);
  CHECK(p.families.size() == 2);  // the histogram h got no valid sample
}

TEST_CASE("exposition: edge cases", "[scrape]") {
  CHECK(ParseExposition("").families.empty());
  CHECK(ParseExposition("\n\n  \n# just a comment\n").errors.empty());
  // CRLF lines and no final newline.
  ParsedExposition crlf = ParseExposition("a 1\r\nb{x=\"y\"} 2");
  CHECK(crlf.errors.empty());
  CHECK(FindValue(crlf.families, "b", {{"x", "y"}}) == 2);
  // Control bytes are named, not printed raw.
  ParsedExposition ctl = ParseExposition("a\x01 1\n");
  REQUIRE(ctl.errors.size() == 1);
  CHECK(ctl.errors[0].message == "line 1: unexpected byte 0x01");
  ParsedExposition eol = ParseExposition("a{b=\"c\"\n");
  REQUIRE(eol.errors.size() == 1);
  CHECK(eol.errors[0].message == "line 1: unexpected end of line");
  // HELP before TYPE, TYPE after samples.
  ParsedExposition late = ParseExposition("x 1\n# TYPE x gauge\n");
  REQUIRE(late.errors.size() == 1);
  CHECK(late.errors[0].message == "line 2: TYPE line for x after its samples");
}

TEST_CASE("exposition values", "[scrape]") {
  double v = 0;
  CHECK(ParseExpositionValue("1.5e3", v));
  CHECK(v == 1500);
  CHECK(ParseExpositionValue("-0.25", v));
  CHECK(v == -0.25);
  CHECK(ParseExpositionValue(".5", v));
  CHECK(ParseExpositionValue("+Inf", v));
  CHECK(std::isinf(v));
  CHECK_FALSE(ParseExpositionValue("inf", v));
  CHECK_FALSE(ParseExpositionValue("-nan", v));
  CHECK_FALSE(ParseExpositionValue("1,5", v));
  CHECK_FALSE(ParseExpositionValue("", v));
  CHECK_FALSE(ParseExpositionValue("1e999", v));
}

TEST_CASE("exposition: parse time of a large exposition", "[scrape][bench]") {
  // 10 histogram families x 1,000 label sets x 12 series = 120,000 samples.
  std::string text;
  for (int f = 0; f < 10; ++f) {
    std::string name = "bench_latency_seconds_" + std::to_string(f);
    text += "# HELP " + name + " latency\n# TYPE " + name + " histogram\n";
    for (int i = 0; i < 1000; ++i) {
      std::string l = "route=\"/api/v1/item/" + std::to_string(i) + "\",method=\"GET\"";
      for (const char* le : {"0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "+Inf"}) {
        text += name + "_bucket{" + l + ",le=\"" + le + "\"} " + std::to_string(i * 7) + "\n";
      }
      text += name + "_sum{" + l + "} 123.456\n" + name + "_count{" + l + "} " +
              std::to_string(i * 7) + "\n";
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  ParsedExposition p = ParseExposition(text);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  CHECK(p.errors.empty());
  CHECK(p.samples == 110000);
  CHECK(p.families.size() == 10);
  std::cout << "parsed " << text.size() << " bytes, " << p.samples << " samples in " << ms
            << " ms\n";
}

}  // namespace
}  // namespace vigil
