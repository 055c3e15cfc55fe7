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

}  // namespace
}  // namespace vigil
