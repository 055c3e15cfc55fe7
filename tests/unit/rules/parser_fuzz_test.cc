// Property test over random token soup: parsing never crashes, whatever parses prints back to
// PromQL that parses to the same text, and evaluation returns a value or an error.
#include <catch2/catch.hpp>
#include <cstdint>

#include "rules/promql/engine.h"
#include "rules/promql/memory_storage.h"
#include "rules/promql/parser.h"

namespace vigil::promql {
namespace {

TEST_CASE("Random PromQL round-trips and evaluates without crashing", "[promql][fuzz]") {
  static const char* kTokens[] = {"up",
                                  "m",
                                  "{",
                                  "}",
                                  "(",
                                  ")",
                                  "[",
                                  "]",
                                  "5m",
                                  "1h30m",
                                  ",",
                                  "job",
                                  "=",
                                  "!=",
                                  "=~",
                                  "!~",
                                  "\"a.*\"",
                                  "'x'",
                                  "+",
                                  "-",
                                  "*",
                                  "/",
                                  "%",
                                  "^",
                                  "==",
                                  "!=",
                                  ">",
                                  "<",
                                  ">=",
                                  "<=",
                                  "bool",
                                  "and",
                                  "or",
                                  "unless",
                                  "on",
                                  "ignoring",
                                  "group_left",
                                  "group_right",
                                  "by",
                                  "without",
                                  "sum",
                                  "avg",
                                  "topk",
                                  "quantile",
                                  "count_values",
                                  "rate",
                                  "histogram_quantile",
                                  "label_replace",
                                  "abs",
                                  "time",
                                  "vector",
                                  "scalar",
                                  "offset",
                                  "1",
                                  "0.5",
                                  "-2",
                                  "Inf",
                                  "NaN",
                                  "#c\n",
                                  "absent",
                                  "clamp",
                                  "sort",
                                  "round",
                                  ":",
                                  "@",
                                  "\"",
                                  "0x1f",
                                  "1e3",
                                  "__name__"};
  std::uint64_t seed = 12345;
  auto next = [&] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>(seed >> 33);
  };
  MemoryStorage st;
  for (int i = 0; i < 20; ++i) {
    st.Add(Labels{{"__name__", "up"}, {"job", i % 2 ? "a" : "b"}, {"i", std::to_string(i % 5)}},
           i * 15000, i % 3);
    st.Add(Labels{{"__name__", "m"}, {"job", "a"}, {"le", i % 2 ? "+Inf" : "1"}}, i * 15000, i);
  }
  Engine engine(EngineOptions{.lookback_delta_ms = 300000, .max_samples = 100000});
  int parsed = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::string q;
    std::size_t n = 1 + next() % 9;
    for (std::size_t k = 0; k < n; ++k) {
      q += kTokens[next() % (sizeof(kTokens) / sizeof(kTokens[0]))];
      if (next() % 2) q += " ";
    }
    auto e = ParseExpr(q);
    if (!e.ok()) {
      CHECK(e.status().message().find("parse error") != std::string::npos);
      continue;
    }
    ++parsed;
    std::string printed = (*e)->ToString();
    auto again = ParseExpr(printed);
    INFO(q << " => " << printed);
    REQUIRE(again.ok());
    CHECK((*again)->ToString() == printed);
    auto v = engine.Instant(st, **e, 200000);
    if (v.ok()) CHECK(v->type == (*e)->Type());
  }
  CHECK(parsed > 1000);
}

}  // namespace
}  // namespace vigil::promql
