#include "service/cursor.h"

#include <catch2/catch.hpp>

namespace vigil::shop {
namespace {

TEST_CASE("base64url matches RFC 4648 vectors without padding") {
  CHECK(Base64UrlEncode("") == "");
  CHECK(Base64UrlEncode("f") == "Zg");
  CHECK(Base64UrlEncode("fo") == "Zm8");
  CHECK(Base64UrlEncode("foo") == "Zm9v");
  CHECK(Base64UrlEncode("foobar") == "Zm9vYmFy");
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(*Base64UrlDecode("Zm9vYmE") == "fooba");
  CHECK(*Base64UrlDecode("-_8") == "\xfb\xff");
  CHECK_FALSE(Base64UrlDecode("Zm9v=").ok());
  CHECK_FALSE(Base64UrlDecode("Z").ok());
  CHECK_FALSE(Base64UrlDecode("Zh").ok());  // non-zero leftover bits
}

TEST_CASE("cursors round-trip ids") {
  for (std::int64_t id : {0LL, 1LL, 42LL, 99999LL, 9223372036854775807LL}) {
    Result<std::int64_t> back = DecodeCursor(EncodeCursor(id));
    REQUIRE(back.ok());
    CHECK(*back == id);
  }
  CHECK(EncodeCursor(1) != EncodeCursor(2));
}

TEST_CASE("cursors reject edits, garbage and other encodings") {
  const std::string good = EncodeCursor(12345);
  CHECK_FALSE(DecodeCursor("").ok());
  CHECK_FALSE(DecodeCursor("12345").ok());
  CHECK_FALSE(DecodeCursor(good.substr(0, good.size() - 2)).ok());
  CHECK_FALSE(DecodeCursor(Base64UrlEncode("c1:12346:0")).ok());
  CHECK_FALSE(DecodeCursor(Base64UrlEncode("c1:-5:0")).ok());
  CHECK_FALSE(DecodeCursor(Base64UrlEncode("c2:1:1")).ok());
  CHECK_FALSE(DecodeCursor("' OR 1=1 --").ok());
  CHECK_FALSE(DecodeCursor(std::string(100, 'A')).ok());
  std::string flipped = good;
  flipped[4] = flipped[4] == 'A' ? 'B' : 'A';
  CHECK_FALSE(DecodeCursor(flipped).ok());
}

}  // namespace
}  // namespace vigil::shop
