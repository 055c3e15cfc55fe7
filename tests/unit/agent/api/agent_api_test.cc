#include "agent/api/agent_api.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace vigil {
namespace {

using nlohmann::json;

http::Request WithHeaders(http::Headers headers) {
  http::Request req;
  req.method = "POST";
  req.path = "/-/reload";
  req.headers = std::move(headers);
  return req;
}

TEST_CASE("The lifecycle endpoint refuses what a browser sends from another site", "[agent_api]") {
  CHECK(CheckNotCrossSite(WithHeaders({})).ok());  // curl
  CHECK(CheckNotCrossSite(WithHeaders({{"content-type", "application/json"}})).ok());
  CHECK(CheckNotCrossSite(WithHeaders({{"host", "vigil:9633"}, {"origin", "http://vigil:9633"}}))
            .ok());
  for (const char* form :
       {"application/x-www-form-urlencoded", " Multipart/Form-Data; boundary=x", "text/plain"}) {
    CAPTURE(form);
    CHECK_FALSE(CheckNotCrossSite(WithHeaders({{"content-type", form}})).ok());
  }
  CHECK_FALSE(CheckNotCrossSite(WithHeaders({{"sec-fetch-site", "cross-site"}})).ok());
  CHECK_FALSE(CheckNotCrossSite(WithHeaders({{"sec-fetch-site", "same-site"}})).ok());
  Status other =
      CheckNotCrossSite(WithHeaders({{"host", "vigil:9633"}, {"origin", "http://evil.example"}}));
  REQUIRE_FALSE(other.ok());
  CHECK(other.message().find("http://evil.example") != std::string::npos);
  CHECK_FALSE(CheckNotCrossSite(WithHeaders({{"origin", "http://vigil:9633"}})).ok());  // no Host
}

TEST_CASE("Collectors and their attachments are valid JSON whatever their text holds",
          "[agent_api]") {
  CollectorState pg;
  pg.kind = "postgres";
  pg.target = "main\xff\"";  // invalid UTF-8 and a quote in a name
  pg.up = true;
  pg.has_run = true;
  pg.last_run = 1'700'000'000'000;
  pg.runs = 3;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->push_back({"pg_up", "", MetricType::kGauge, {{{}, 1}, {{{"a", "b"}}, 1}}});
  pg.snapshot = snapshot;
  pg.attachments = std::make_shared<std::map<std::string, std::string>>(
      std::map<std::string, std::string>{{"blocking", "[{\"pid\":7}]"}});
  CollectorState redis;
  redis.kind = "redis";
  redis.target = "cache";

  json list = json::parse(CollectorsJson({pg, redis}));
  REQUIRE(list["data"].size() == 2);
  CHECK(list["data"][0]["target"] == "main\xEF\xBF\xBD\"");
  CHECK(list["data"][0]["series"] == 2);
  CHECK(list["data"][0]["last_run"] == "2023-11-14T22:13:20.000Z");
  CHECK(list["data"][1]["last_run"] == "");  // never ran

  json blocking = json::parse(AttachmentsJson({pg, redis}, "postgres", "blocking"));
  REQUIRE(blocking["data"].size() == 1);
  CHECK(blocking["data"][0]["data"][0]["pid"] == 7);
  json none = json::parse(AttachmentsJson({pg, redis}, "postgres", "statements"));
  CHECK(none["data"].empty());
}

}  // namespace
}  // namespace vigil
