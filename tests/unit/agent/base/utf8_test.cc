#include "agent/base/utf8.h"

#include <catch2/catch.hpp>
#include <string>

namespace vigil {
namespace {

TEST_CASE("UTF-8 validity follows the standard", "[utf8]") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain ascii"));
  CHECK(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  for (const char* bad : {"\x80", "\xC3", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF",
                          "\xED\xA0\x80",      // a surrogate
                          "\xF4\x90\x80\x80",  // over U+10FFFF
                          "\xF5\x80\x80\x80", "\xFF", "\xE2\x82", "\xF0\x9F\x98"}) {
    CAPTURE(bad);
    CHECK_FALSE(IsValidUtf8(bad));
  }
}

TEST_CASE("Invalid UTF-8 becomes one U+FFFD per run of bad bytes", "[utf8]") {
  CHECK(ToValidUtf8("ok \xC3\xA9") == "ok \xC3\xA9");
  CHECK(ToValidUtf8("a\xFF"
                    "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(ToValidUtf8("a\xFF\xFE\xC0"
                    "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(ToValidUtf8("\xE2\x82") == "\xEF\xBF\xBD");  // truncated at the end
  CHECK(ToValidUtf8("\xED\xA0\x80!") == "\xEF\xBF\xBD!");
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  CHECK(IsValidUtf8(ToValidUtf8(every_byte)));
  std::string huge(1 << 20, '\xFF');  // linear: one replacement for the whole run
  CHECK(ToValidUtf8(huge) == "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace vigil
