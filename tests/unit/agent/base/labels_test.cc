#include "agent/base/labels.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

TEST_CASE("Labels are kept sorted and unique", "[labels]") {
  Labels l{{"b", "2"}, {"a", "1"}, {"b", "3"}};
  REQUIRE(l.size() == 2);
  CHECK(l.items()[0].name == "a");
  CHECK(l.Get("b") == "3");
  CHECK(l.Get("missing").empty());
  CHECK(l.ToString() == R"({a="1", b="3"})");
}

TEST_CASE("Setting an empty value removes the label", "[labels]") {
  Labels l{{"a", "1"}, {"b", "2"}};
  l.Set("a", "");
  CHECK_FALSE(l.Has("a"));
  CHECK(l == Labels{{"b", "2"}});
  CHECK(Labels(std::vector<Label>{{"x", ""}}).empty());
}

TEST_CASE("Equal label sets hash equal, different ones usually not", "[labels]") {
  Labels a{{"job", "x"}, {"instance", "y"}};
  Labels b{{"instance", "y"}, {"job", "x"}};
  Labels c{{"instance", "y"}, {"job", "z"}};
  CHECK(a == b);
  CHECK(a.Hash() == b.Hash());
  CHECK(a.Hash() != c.Hash());
}

TEST_CASE("Label and metric name validation", "[labels]") {
  CHECK(IsValidMetricName("http_requests_total"));
  CHECK(IsValidMetricName("job:rate5m:sum"));
  CHECK_FALSE(IsValidMetricName("1abc"));
  CHECK_FALSE(IsValidMetricName(""));
  CHECK(IsValidLabelName("_x9"));
  CHECK_FALSE(IsValidLabelName("a:b"));
  CHECK_FALSE(IsValidLabelName("a-b"));
  CHECK(ValidateUserLabels(Labels{{"env", "demo"}}).ok());
  CHECK(ValidateUserLabels(Labels{{"__name__", "x"}}).message() ==
        "label name \"__name__\" is reserved (starts with __)");
  CHECK(ValidateUserLabels(Labels{{"a-b", "x"}}).message() == "invalid label name \"a-b\"");
}

TEST_CASE("Label values are escaped for the exposition format", "[labels]") {
  CHECK(EscapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace vigil
