// Every query parameter attacked with bad values: always a 4xx JSON error, never a crash.
#include "agent/api/query_api.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "rules/promql/memory_storage.h"

namespace vigil {
namespace {

http::Request Make(std::string query) {
  http::Request req;
  req.method = "GET";
  req.query = std::move(query);
  REQUIRE(http::ParseUrlEncoded(req.query, req.params, 100).ok());
  return req;
}

promql::MemoryStorage Storage() {
  promql::MemoryStorage st;
  for (int i = 0; i < 100; ++i) {
    for (int s = 0; s < 20; ++s) {
      st.Add(Labels{{"__name__", "x"}, {"s", std::to_string(s)}}, i * 15000, i);
    }
  }
  return st;
}

const char* kBadTimes[] = {"nan",
                           "NaN",
                           "inf",
                           "+Inf",
                           "-inf",
                           "1e308",
                           "-1e308",
                           "9e15",
                           "-9e15",
                           "1e19",
                           "abc",
                           "",
                           "0x10",
                           "1,5",
                           "2026-13-45T99:99:99Z",
                           "2026-01-01T00:00:00+01:00",
                           "2026-01-01T00:00:00.5.5Z",
                           "99999999999999999999999"};

TEST_CASE("Bad time parameters of an instant query are 400 bad_data", "[api]") {
  promql::MemoryStorage st = Storage();
  promql::Engine engine;
  for (const char* t : kBadTimes) {
    if (std::string_view(t).empty()) continue;  // an empty time is "now" only when absent
    http::Response res;
    CAPTURE(t);
    ServeInstantQuery(engine, st, Make("query=x&time=" + std::string(t)), 1000000, res);
    CHECK(res.status == 400);
    auto body = nlohmann::json::parse(res.body);
    CHECK(body["status"] == "error");
    CHECK(body["errorType"] == "bad_data");
  }
}

TEST_CASE("Bad start, end and step of a range query are 400 bad_data", "[api]") {
  promql::MemoryStorage st = Storage();
  promql::Engine engine;
  std::vector<std::string> queries;
  for (const char* t : kBadTimes) {
    queries.push_back("query=x&start=" + std::string(t) + "&end=100&step=1");
    queries.push_back("query=x&start=0&end=" + std::string(t) + "&step=1");
  }
  for (const char* step : {"0", "-1", "0.0001", "1e-300", "nan", "inf", "-inf", "1e308", "0s",
                           "-5s", "abc", "", "1e13", "10000000y"}) {
    queries.push_back("query=x&start=0&end=100&step=" + std::string(step));
  }
  queries.push_back("query=x&start=100&end=0&step=1");       // reversed
  queries.push_back("query=x&start=0&end=11001&step=1");     // 11,002 points
  queries.push_back("query=x&start=-9e12&end=9e12&step=1");  // Prometheus refuses too
  queries.push_back("query=x&end=100&step=1");               // no start
  queries.push_back("query=x&start=0&end=100&step=1&timeout=-1s");
  queries.push_back("query=x&start=0&end=100&step=1&timeout=nan");
  queries.push_back("query=x[5m]&start=0&end=100&step=1");  // not an instant vector
  queries.push_back("query=x offset 99999999999y&start=0&end=100&step=1");
  queries.push_back("query=x[99999999999y]&start=0&end=100&step=1");
  queries.push_back("query=sum(&start=0&end=100&step=1");
  for (const std::string& q : queries) {
    http::Response res;
    CAPTURE(q);
    ServeRangeQuery(engine, st, Make(q), res);
    CHECK(res.status == 400);
    auto body = nlohmann::json::parse(res.body);
    CHECK(body["errorType"] == "bad_data");
  }
  http::Response ok;
  ServeRangeQuery(engine, st, Make("query=x&start=0&end=11000&step=1"), ok);  // 11,001 points
  CHECK(ok.status == 200);
}

TEST_CASE("A query over its budget or deadline stops with execution, timeout or canceled",
          "[api]") {
  promql::MemoryStorage st = Storage();
  promql::Engine small(promql::EngineOptions{.max_samples = 100});
  http::Response over;
  ServeRangeQuery(small, st, Make("query=sum(x)&start=0&end=1485&step=15"), over);
  CHECK(over.status == 422);
  CHECK(nlohmann::json::parse(over.body)["errorType"] == "execution");

  promql::Engine engine(promql::EngineOptions{.timeout = std::chrono::milliseconds(0)});
  http::Response late;
  ServeInstantQuery(engine, st, Make("query=sum(rate(x[5m]))"), 1000000, late);
  CHECK(late.status == 503);
  CHECK(nlohmann::json::parse(late.body)["errorType"] == "timeout");

  std::atomic<bool> gone{true};
  http::Request req = Make("query=x&start=0&end=1485&step=15");
  req.cancelled = &gone;
  http::Response cancelled;
  ServeRangeQuery(promql::Engine(), st, req, cancelled);
  CHECK(cancelled.status == 499);
  CHECK(nlohmann::json::parse(cancelled.body)["errorType"] == "canceled");

  http::Response fine;
  ServeRangeQuery(promql::Engine(), st, Make("query=sum(x)&start=0&end=1485&step=15"), fine);
  CHECK(fine.status == 200);
}

// Found by the http_api fuzz target (tests/fuzz/corpus/http_api/crash-invalid-utf8-query): a
// query byte that is not UTF-8 came back verbatim in the parse error, so the answer was not
// JSON. Ill-formed UTF-8 is written as U+FFFD, as Go's encoding/json does.
TEST_CASE("Answers are JSON whatever bytes the query holds", "[api]") {
  promql::MemoryStorage st = Storage();
  st.Add(Labels{{"__name__", "y"}, {"v", "caf\xe9"}}, 0, 1);
  promql::Engine engine;
  http::Response parse_error;
  ServeRangeQuery(engine, st, Make("query=avg_over_ti%8De(x[10m])&start=0&end=3600&step=60"),
                  parse_error);
  CHECK(parse_error.status == 400);
  auto body = nlohmann::json::parse(parse_error.body);  // throws if not JSON
  CHECK(body["error"] == "1:12: parse error: unexpected character: '\xef\xbf\xbd'");

  http::Response string_result;
  ServeInstantQuery(engine, st, Make("query=%22a%FF%FEb%22"), 1000000, string_result);
  CHECK(string_result.status == 200);
  CHECK(nlohmann::json::parse(string_result.body)["data"]["result"][1] ==
        "a\xef\xbf\xbd"
        "b");

  http::Response label;
  ServeInstantQuery(engine, st, Make("query=y"), 1000, label);
  CHECK(label.status == 200);
  CHECK(nlohmann::json::parse(label.body)["data"]["result"][0]["metric"]["v"] == "caf\xef\xbf\xbd");
}

}  // namespace
}  // namespace vigil
