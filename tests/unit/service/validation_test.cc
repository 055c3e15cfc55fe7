#include "service/validation.h"

#include <catch2/catch.hpp>

namespace vigil::shop {
namespace {

TEST_CASE("ParseJsonObject accepts only one JSON object") {
  FieldError err;
  CHECK(ParseJsonObject(R"({"a":1})", &err).has_value());
  for (const char* bad : {"", "[]", "1", "\"x\"", "{", "{\"a\":1}}", "{'a':1}", "null"}) {
    CAPTURE(bad);
    err = {};
    CHECK_FALSE(ParseJsonObject(bad, &err).has_value());
    CHECK(err.field == "body");
  }
}

TEST_CASE("ObjectValidator reads typed fields and names the first bad one") {
  FieldError err;
  auto doc = ParseJsonObject(R"({"email":"a@b.c","age":30,"items":[1,2]})", &err);
  REQUIRE(doc);
  ObjectValidator v(*doc);
  CHECK(v.String("email", true, 3, 100) == "a@b.c");
  CHECK(v.Int("age", true, 0, 150) == 30);
  CHECK(v.Array("items", true, 1, 5) != nullptr);
  CHECK_FALSE(v.Int("missing", false, 0, 1).has_value());
  v.RejectUnknownFields();
  CHECK(v.ok());
}

TEST_CASE("ObjectValidator rejects wrong types, ranges, unknown and missing fields") {
  struct Case {
    const char* body;
    const char* field;
  };
  const Case cases[] = {
      {R"({"name":"x","qty":"1"})", "qty"},
      {R"({"name":"x","qty":1.5})", "qty"},
      {R"({"name":"x","qty":1e3})", "qty"},
      {R"({"name":"x","qty":0})", "qty"},
      {R"({"name":"x","qty":101})", "qty"},
      {R"({"name":"x","qty":18446744073709551615})", "qty"},
      {R"({"name":"x","qty":-9223372036854775808})", "qty"},
      {R"({"qty":1})", "name"},
      {R"({"name":"","qty":1})", "name"},
      {R"({"name":7,"qty":1})", "name"},
      {R"({"name":"a\u0000b","qty":1})", "name"},
      {R"({"name":"x","qty":1,"admin":true})", "admin"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    FieldError err;
    auto doc = ParseJsonObject(c.body, &err);
    REQUIRE(doc);
    ObjectValidator v(*doc);
    v.String("name", true, 1, 10);
    v.Int("qty", true, 1, 100);
    v.RejectUnknownFields();
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().field == c.field);
    CHECK_FALSE(v.error().message.empty());
  }
}

TEST_CASE("ObjectValidator prefixes nested field names") {
  FieldError err;
  auto doc = ParseJsonObject(R"({"product_id":1,"quantity":-1})", &err);
  REQUIRE(doc);
  ObjectValidator v(*doc, "items[2].");
  v.Int("product_id", true, 1, 10);
  v.Int("quantity", true, 1, 10);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().field == "items[2].quantity");
}

TEST_CASE("ObjectValidator reads booleans strictly and tells whether any field was present") {
  FieldError err;
  auto doc = ParseJsonObject(R"({"on":true,"off":false})", &err);
  REQUIRE(doc);
  ObjectValidator v(*doc);
  CHECK_FALSE(v.any_present());
  CHECK_FALSE(v.Bool("missing", false).has_value());
  CHECK_FALSE(v.any_present());
  CHECK(v.Bool("on", true) == true);
  CHECK(v.Bool("off", true) == false);
  CHECK(v.any_present());
  CHECK(v.ok());

  for (const char* bad : {R"({"on":1})", R"({"on":"true"})", R"({"on":[]})"}) {
    CAPTURE(bad);
    auto d = ParseJsonObject(bad, &err);
    REQUIRE(d);
    ObjectValidator b(*d);
    CHECK_FALSE(b.Bool("on", true).has_value());
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().field == "on");
  }
}

TEST_CASE("ParseIntParam is strict") {
  FieldError err;
  CHECK(ParseIntParam("25", "limit", 1, 100, &err) == 25);
  for (const char* bad : {"", "0", "101", "1x", " 5", "+5", "5.0", "99999999999999999999"}) {
    CAPTURE(bad);
    err = {};
    CHECK_FALSE(ParseIntParam(bad, "limit", 1, 100, &err).has_value());
    CHECK(err.field == "limit");
  }
}

}  // namespace
}  // namespace vigil::shop
