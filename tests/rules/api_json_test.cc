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
}

TEST_CASE("Invalid UTF-8 in queries and labels becomes U+FFFD, as Go's encoding/json does",
          "[promql][json]") {
  CHECK(JsonString("\xff\xfe") == R"("\ufffd\ufffd")");
  // A truncated sequence, an overlong form, a surrogate, past U+10FFFF: one per byte.
  CHECK(JsonString("a\xc3(") == R"("a\ufffd(")");
  CHECK(JsonString("\xc0\xaf") == R"("\ufffd\ufffd")");
  CHECK(JsonString("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");
  CHECK(JsonString("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");
  CHECK(JsonString("\xe2\x82") == R"("\ufffd\ufffd")");
  // Well-formed sequences stay as they are, U+2028 and U+2029 escaped.
  CHECK(JsonString("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf") ==
        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
  CHECK(JsonString("\xe2\x80\xa8\xe2\x80\xa9") == R"("\u2028\u2029")");
  CHECK(
      FormatQueryError(Status::InvalidArgument("1:1: parse error: unexpected character: '\xff'")) ==
      R"({"status":"error","errorType":"bad_data","error":"1:1: parse error: unexpected character: '\ufffd'"})");
  CHECK(FormatQueryResponse(Value::String("\xff", 1000)) ==
        R"({"status":"success","data":{"resultType":"string","result":[1,"\ufffd"]}})");
}

}  // namespace
}  // namespace vigil::promql
