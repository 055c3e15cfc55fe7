#include "agent/base/duration.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

TEST_CASE("Durations parse as Prometheus writes them", "[duration]") {
  CHECK(ParseDuration("15s")->count() == 15000);
  CHECK(ParseDuration("1h30m")->count() == 5400000);
  CHECK(ParseDuration("500ms")->count() == 500);
  CHECK(ParseDuration("1d")->count() == 86400000);
  CHECK(ParseDuration("0")->count() == 0);
  for (const char* bad : {"", "15", "s", "1m1h", "1s1s", "15x", "-1s", "1.5s", "1 m"}) {
    INFO(bad);
    CHECK_FALSE(ParseDuration(bad).ok());
  }
  // Found by the http_api fuzz target (`timeout=499111111541y`, input
  // tests/fuzz/corpus/http_api/crash-duration-overflow): n * unit overflowed int64 (undefined
  // behaviour, a wrapped value could pass later checks). Past 2^63-1 ms is an error.
  for (const char* huge : {"499111111541y", "292471209y", "292471208y52w", "1099511627776w",
                           "292471208y1000000000000d"}) {
    INFO(huge);
    CHECK_FALSE(ParseDuration(huge).ok());
  }
  CHECK(ParseDuration("292471208y")->count() == 292471208LL * 31536000000LL);
  CHECK(FormatDuration(Duration(90000)) == "1m30s");
  CHECK(FormatDuration(Duration(1500)) == "1s500ms");
  CHECK(FormatDuration(Duration(0)) == "0s");
  // As Prometheus writes them: weeks and years only when exact.
  CHECK(FormatDuration(Duration(14 * 86400000LL)) == "2w");
  CHECK(FormatDuration(Duration(90 * 86400000LL)) == "90d");
  CHECK(FormatDuration(Duration(365 * 86400000LL)) == "1y");
  CHECK(FormatDuration(Duration(-5000)) == "-5s");
  CHECK_FALSE(ParseDuration("99999999999999999999s").ok());  // the digits alone overflow
  CHECK(ParseDuration("1x").status().message() == "not a valid duration string: \"1x\"");
}

}  // namespace
}  // namespace vigil
