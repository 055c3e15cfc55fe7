#include "agent/base/url.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

TEST_CASE("URLs: authority, userinfo, and the URL without it", "[url]") {
  CHECK(UrlAuthority("http://u:p@h:9093/x?y#z") == "u:p@h:9093");
  CHECK(UrlAuthority("https://h?x=@") == "h");
  CHECK(UrlAuthority("no scheme").empty());
  CHECK(UrlHasUserinfo("http://token@h"));
  CHECK_FALSE(UrlHasUserinfo("http://h/a@b"));
  CHECK(UrlWithoutUserinfo("http://u:p@ss@h:1/x") == "http://h:1/x");
  CHECK(UrlWithoutUserinfo("http://h:1/x@y") == "http://h:1/x@y");
}

TEST_CASE("host:port addresses: brackets for IPv6, a port from 1 to 65535", "[url]") {
  Result<HostPort> v4 = ParseHostPort("127.0.0.1:9633");
  REQUIRE(v4.ok());
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 9633);
  Result<HostPort> all = ParseHostPort(":9633");
  REQUIRE(all.ok());
  CHECK(all->host.empty());
  Result<HostPort> v6 = ParseHostPort("[::1]:65535");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 65535);
  for (const char* bad : {"::1:9633", "host", "host:0", "host:http", "host:65536",
                          "host:", "[::1:9633", "::1]:9633", "host:+80", "host:000009633"}) {
    CAPTURE(bad);
    Result<HostPort> r = ParseHostPort(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(std::string("invalid address \"") + bad + "\"") == 0);
  }
}

TEST_CASE("URL authorities: the port is optional, the host is not", "[url]") {
  Result<HostPort> plain = ParseAuthority("example.org", 443);
  REQUIRE(plain.ok());
  CHECK(plain->host == "example.org");
  CHECK(plain->port == 443);
  Result<HostPort> v6 = ParseAuthority("[::1]", 80);
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 80);
  Result<HostPort> v6_port = ParseAuthority("[::1]:9090", 80);
  REQUIRE(v6_port.ok());
  CHECK(v6_port->port == 9090);
  for (const char* bad : {"", ":9090", "[]", "host:", "host:99999", "host:x", "::1", "[::1"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseAuthority(bad, 80).ok());
  }
}

}  // namespace
}  // namespace vigil
