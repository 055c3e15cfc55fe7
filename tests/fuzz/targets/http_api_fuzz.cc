// libFuzzer target: the query API as the HTTP server reaches it. The input is a raw request: a
// head (request line and headers), an empty line, a body. It is parsed as the server does
// (ParseRequestHead, then ParseUrlEncoded over the query string and, for a POST form, the
// body) and given to ServeRangeQuery when the path ends in "query_range", else to
// ServeInstantQuery, over a few series and a small budget (50,000 samples, 1 s), so that no
// input can make it slow. The answer must be a status the API documents, valid JSON (UTF-8
// included), and what its status says: "success" with a result for 200, an error of the
// matching errorType otherwise; a range query has at most 11,001 points per series.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "agent/api/query_api.h"
#include "agent/http/message.h"
#include "rules/promql/engine.h"
#include "rules/promql/memory_storage.h"

namespace {

constexpr vigil::TimestampMs kNow = 3'600'000;  // 1970-01-01T01:00:00Z
constexpr std::size_t kMaxParams = 1000;        // the server's default (server.h)

const vigil::promql::MemoryStorage& Storage() {
  static const vigil::promql::MemoryStorage* st = [] {
    auto* s = new vigil::promql::MemoryStorage();
    for (vigil::TimestampMs t = 0; t <= kNow; t += 15000) {
      double i = static_cast<double>(t / 15000);
      s->Add(vigil::Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "a:9100"}}, t, 1);
      s->Add(vigil::Labels{{"__name__", "up"}, {"job", "db"}, {"instance", "b:9100"}}, t,
             t % 60000 == 0 ? 0 : 1);
      s->Add(vigil::Labels{{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "200"}}, t,
             i * 10);
      s->Add(vigil::Labels{{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "500"}}, t,
             t > kNow / 2 ? 0 : i);  // a counter reset
      for (const char* le : {"0.1", "1", "+Inf"}) {
        s->Add(vigil::Labels{{"__name__", "latency_seconds_bucket"}, {"job", "api"}, {"le", le}}, t,
               i * (le[0] == '0'   ? 1
                    : le[0] == '1' ? 2
                                   : 3));
      }
      s->Add(vigil::Labels{{"__name__", "temp"}, {"room", "caf\xc3\xa9 \"1\""}}, t, 20.5 - i / 7);
    }
    return s;
  }();
  return *st;
}

const vigil::promql::Engine& Engine() {
  static const vigil::promql::Engine engine(vigil::promql::EngineOptions{
      .lookback_delta_ms = 300000, .max_samples = 50000, .timeout = std::chrono::seconds(1)});
  return engine;
}

[[noreturn]] void Fail(const char* what, const vigil::http::Response& res) {
  std::fprintf(stderr, "http_api invariant broken: %s\nstatus %d, body (%zu bytes): %.2000s\n",
               what, res.status, res.body.size(), res.body.c_str());
  std::abort();
}

std::string_view ErrorTypeFor(int status) {
  switch (status) {
    case 400:
      return "bad_data";
    case 422:
      return "execution";
    case 499:
      return "canceled";
    default:
      return "";  // 503: timeout or unavailable
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 65536) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t sep = input.find("\r\n\r\n");
  std::size_t skip = 4;
  if (std::size_t lf = input.find("\n\n"); lf < sep) {
    sep = lf;
    skip = 2;
  }
  std::string_view head = input.substr(0, sep);
  std::string_view body =
      sep == std::string_view::npos ? std::string_view() : input.substr(sep + skip);

  vigil::http::Request req;
  if (!vigil::http::ParseRequestHead(head, vigil::http::HeadLimits{}, req).ok()) return 0;
  req.body = std::string(body);
  if (!vigil::http::ParseUrlEncoded(req.query, req.params, kMaxParams).ok()) return 0;
  const std::string* type = req.Header("content-type");
  if (req.method == "POST" && type != nullptr &&
      type->starts_with("application/x-www-form-urlencoded") &&
      !vigil::http::ParseUrlEncoded(req.body, req.params, kMaxParams).ok()) {
    return 0;
  }

  vigil::http::Response res;
  bool range = req.path.ends_with("query_range");
  if (range) {
    vigil::ServeRangeQuery(Engine(), Storage(), req, res);
  } else {
    vigil::ServeInstantQuery(Engine(), Storage(), req, kNow, res);
  }

  if (res.status != 200 && res.status != 400 && res.status != 422 && res.status != 499 &&
      res.status != 503) {
    Fail("status not one of 200, 400, 422, 499, 503", res);
  }
  if (res.content_type != "application/json") Fail("content type not application/json", res);
  nlohmann::json j = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) Fail("body is not a JSON object", res);
  if (!j.contains("status") || !j["status"].is_string()) Fail("no \"status\"", res);
  if (res.status == 200) {
    if (j["status"] != "success") Fail("200 without \"status\":\"success\"", res);
    if (!j.contains("data") || !j["data"].is_object() || !j["data"].contains("result")) {
      Fail("200 without data.result", res);
    }
    const nlohmann::json& d = j["data"];
    if (!d.contains("resultType") || !d["resultType"].is_string()) Fail("no resultType", res);
    std::string rt = d["resultType"];
    if (rt != "vector" && rt != "matrix" && rt != "scalar" && rt != "string") {
      Fail("unknown resultType", res);
    }
    if (range) {
      if (rt != "matrix") Fail("range query answered with no matrix", res);
      for (const nlohmann::json& s : d["result"]) {
        if (s["values"].size() > static_cast<std::size_t>(vigil::kMaxPointsPerSeries) + 1) {
          Fail("more than 11,001 points in a series", res);
        }
      }
    }
  } else {
    if (j["status"] != "error") Fail("an error status without \"status\":\"error\"", res);
    if (!j.contains("errorType") || !j["errorType"].is_string() || !j.contains("error") ||
        !j["error"].is_string()) {
      Fail("an error without errorType and error", res);
    }
    std::string et = j["errorType"];
    std::string_view want = ErrorTypeFor(res.status);
    if (want.empty() ? et != "timeout" && et != "unavailable" : et != want) {
      Fail("errorType does not match the status", res);
    }
  }
  return 0;
}
