#include "rules/promql/api_json.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace vigil::promql {
namespace {

TEST_CASE("Query results format as Prometheus API JSON", "[promql][json]") {
  Value v =
      Value::OfVector({Sample{Labels{{"__name__", "up"}, {"job", "a<b>"}}, 1.5, 1700000000120},
                       Sample{Labels{}, std::nan(""), 1700000000000}});
  CHECK(FormatQueryResponse(v) ==
        R"({"status":"success","data":{"resultType":"vector","result":[)"
        R"({"metric":{"__name__":"up","job":"a\u003cb\u003e"},"value":[1700000000.120,"1.5"]},)"
        R"({"metric":{},"value":[1700000000,"NaN"]}]}})");
  CHECK(FormatQueryResponse(Value::Scalar(INFINITY, 5)) ==
        R"({"status":"success","data":{"resultType":"scalar","result":[0.005,"+Inf"]}})");
  CHECK(FormatQueryResponse(Value::String("a\"b\n", 1000)) ==
        R"({"status":"success","data":{"resultType":"string","result":[1,"a\"b\n"]}})");
  Value m = Value::OfMatrix({Series{Labels{{"a", "b"}}, {{1000, 1}, {2500, 1e21}}}});
  CHECK(FormatQueryResponse(m) ==
        R"({"status":"success","data":{"resultType":"matrix","result":[)"
        R"({"metric":{"a":"b"},"values":[[1,"1"],[2.500,"1000000000000000000000"]]}]}})");
  CHECK(FormatQueryError(Status::InvalidArgument("1:3: parse error: x")) ==
        R"({"status":"error","errorType":"bad_data","error":"1:3: parse error: x"})");
  CHECK(FormatQueryError(Status::InvalidArgument("many-to-many")) ==
        R"({"status":"error","errorType":"execution","error":"many-to-many"})");
  CHECK(JsonTimestamp(-1500) == "-1.500");
  // Ill-formed UTF-8 (a query's bytes quoted in an error, a scraped label value) becomes
  // U+FFFD, so the answer stays JSON.
  CHECK(JsonString("a\xff\xfe"
                   "b\xc3\xa9") ==
        "\"a\xef\xbf\xbd"
        "b\xc3\xa9\"");
  CHECK(FormatQueryError(Status::InvalidArgument("1:1: parse error: '\x8d'")) ==
        R"({"status":"error","errorType":"bad_data","error":"1:1: parse error: ')"
        "\xef\xbf\xbd'\"}");
}

TEST_CASE("Invalid UTF-8 in queries and labels becomes U+FFFD: the answer is valid JSON",
          "[promql][json]") {
  const std::string r = "\xef\xbf\xbd";  // U+FFFD, once per run of bad bytes
  CHECK(JsonString("\xff\xfe") == "\"" + r + "\"");
  // A truncated sequence, an overlong form, a surrogate, past U+10FFFF.
  CHECK(JsonString("a\xc3(") == "\"a" + r + "(\"");
  CHECK(JsonString("\xc0\xaf") == "\"" + r + "\"");
  CHECK(JsonString("\xed\xa0\x80-") == "\"" + r + "-\"");
  CHECK(JsonString("\xf4\x90\x80\x80") == "\"" + r + "\"");
  CHECK(JsonString("x\xe2\x82") == "\"x" + r + "\"");
  // Well-formed sequences stay as they are, U+2028 and U+2029 escaped.
  CHECK(JsonString("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf") ==
        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
  CHECK(JsonString("\xe2\x80\xa8<\xff") == "\"\\u2028\\u003c" + r + "\"");
  CHECK(
      FormatQueryError(Status::InvalidArgument("parse error: unexpected character: '\xff'")) ==
      R"({"status":"error","errorType":"bad_data","error":"parse error: unexpected character: ')" +
          r + "'\"}");
  CHECK(FormatQueryResponse(Value::String("\xff", 1000)) ==
        R"({"status":"success","data":{"resultType":"string","result":[1,")" + r + "\"]}}");
}

}  // namespace
}  // namespace vigil::promql
