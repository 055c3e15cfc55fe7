#include "agent/base/clock.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

TEST_CASE("RFC 3339 times are UTC with milliseconds, before 1970 too", "[clock]") {
  CHECK(FormatRfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(FormatRfc3339(1'700'000'000'123) == "2023-11-14T22:13:20.123Z");
  CHECK(FormatRfc3339(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(FormatRfc3339(-1000) == "1969-12-31T23:59:59.000Z");
}

TEST_CASE("A manual clock moves only when told", "[clock]") {
  ManualClock clock(5000);
  CHECK(clock.Now() == 5000);
  clock.Advance(Duration(250));
  CHECK(clock.Now() == 5250);
  clock.Set(1);
  CHECK(clock.Now() == 1);
}

}  // namespace
}  // namespace vigil
