#include "agent/http/message.h"

#include <catch2/catch.hpp>

namespace vigil::http {
namespace {

TEST_CASE("Request heads parse into method, path, query and lower-case headers", "[http]") {
  Request req;
  REQUIRE(ParseRequestHead("GET /api/v1/query?query=up&time=1 HTTP/1.1\r\nHost: a\r\n"
                           "X-Thing:  spaced value \r\n",
                           HeadLimits{}, req)
              .ok());
  CHECK(req.method == "GET");
  CHECK(req.path == "/api/v1/query");
  CHECK(req.query == "query=up&time=1");
  CHECK(req.minor_version == 1);
  REQUIRE(req.Header("x-thing") != nullptr);
  CHECK(*req.Header("x-thing") == "spaced value");
  CHECK(req.Header("X-Thing") == nullptr);  // names are stored in lower case

  Request proxy;
  REQUIRE(ParseRequestHead("GET http://h:1/metrics HTTP/1.0\n", HeadLimits{}, proxy).ok());
  CHECK(proxy.path == "/metrics");
  CHECK(proxy.minor_version == 0);
}

TEST_CASE("Malformed request heads are errors, never crashes", "[http]") {
  const char* bad[] = {
      "",
      "GET\r\n",
      "GET /\r\n",
      "GET / HTTP/2.0\r\n",
      "GET  / HTTP/1.1\r\n",
      "G(T / HTTP/1.1\r\n",
      "GET nopath HTTP/1.1\r\n",
      "GET /a b HTTP/1.1\r\n",
      "GET / HTTP/1.1\r\n folded: line\r\n",
      "GET / HTTP/1.1\r\nno colon\r\n",
      "GET / HTTP/1.1\r\n: empty name\r\n",
      "GET / HTTP/1.1\r\nbad name: x\r\n",
      "GET / HTTP/1.1\r\nx: a\x01b\r\n",
      "GET /\x7f HTTP/1.1\r\n",
  };
  for (const char* head : bad) {
    Request req;
    CAPTURE(head);
    CHECK_FALSE(ParseRequestHead(head, HeadLimits{}, req).ok());
  }
}

TEST_CASE("The header count is bounded", "[http]") {
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 65; ++i) head += "h" + std::to_string(i) + ": v\r\n";
  Request req;
  Status s = ParseRequestHead(head, HeadLimits{64}, req);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("too many headers") != std::string::npos);
}

TEST_CASE("URL-encoded forms decode + and %XX and bound the pair count", "[http]") {
  Params p;
  REQUIRE(ParseUrlEncoded("query=sum%28x%29+by+%28a%29&&time=1&flag&bad=%zz%4", p, 10).ok());
  REQUIRE(p.size() == 4);
  CHECK(p[0] == std::pair<std::string, std::string>{"query", "sum(x) by (a)"});
  CHECK(p[1].second == "1");
  CHECK(p[2] == std::pair<std::string, std::string>{"flag", ""});
  CHECK(p[3].second == "%zz%4");  // malformed escapes stay as they are
  Params many;
  std::string text;
  for (int i = 0; i < 11; ++i) text += "a=1&";
  CHECK_FALSE(ParseUrlEncoded(text, many, 10).ok());
}

}  // namespace
}  // namespace vigil::http
