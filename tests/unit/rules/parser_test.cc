#include "rules/promql/parser.h"

#include <catch2/catch.hpp>

#include "agent/base/duration.h"

namespace vigil::promql {
namespace {

std::string RoundTrip(const std::string& q) {
  auto e = ParseExpr(q);
  REQUIRE(e.ok());
  std::string printed = (*e)->ToString();
  auto again = ParseExpr(printed);
  INFO(printed);
  REQUIRE(again.ok());
  CHECK((*again)->ToString() == printed);
  return printed;
}

std::string ErrorOf(const std::string& q) {
  auto e = ParseExpr(q);
  REQUIRE_FALSE(e.ok());
  return e.status().message();
}

TEST_CASE("Expressions print back to PromQL", "[promql][parser]") {
  CHECK(RoundTrip("foo") == "foo");
  CHECK(RoundTrip(R"(foo{a="b",c=~"d.*"})") == R"(foo{a="b", c=~"d.*"})");
  CHECK(RoundTrip(R"({__name__=~"a|b"})") == R"({__name__=~"a|b"})");
  CHECK(RoundTrip("rate(foo[5m] offset 1h30m)") == "rate(foo[5m] offset 1h30m)");
  CHECK(RoundTrip("SUM BY (job) (rate(x[1m]))") == "sum by (job) (rate(x[1m]))");
  CHECK(RoundTrip("sum(x) without (a, b)") == "sum without (a, b) (x)");
  CHECK(RoundTrip("topk(3, x)") == "topk(3, x)");
  CHECK(RoundTrip("a / on(x) group_left(y) b") == "a / on (x) group_left (y) b");
  CHECK(RoundTrip("a > bool 1") == "a > bool 1");
  CHECK(RoundTrip("a AND ignoring(z) b") == "a and ignoring (z) b");
  CHECK(RoundTrip("-a ^ 2") == "-a ^ 2");
  CHECK(RoundTrip("-1") == "-1");
  // Found by fuzzing: "+Inf" printed on the right of ^ read back as a unary plus.
  CHECK(RoundTrip("3 ^ inf ^ 3") == "3 ^ Inf ^ 3");
  CHECK(RoundTrip("-inf * 3 ^ +inf ^ 3 * u ^ p") == "-Inf * 3 ^ +Inf ^ 3 * u ^ p");
  CHECK(RoundTrip("+Inf") == "Inf");
  CHECK(RoundTrip("'it\\'s' ") == "\"it's\"");
  CHECK(RoundTrip("x # comment\n + 1") == "x + 1");
  CHECK(RoundTrip("label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")") ==
        "label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")");
  // Subqueries and `@` print as Prometheus prints them: `@` before offset, times to 3 places.
  CHECK(RoundTrip("max_over_time(rate(x[1m])[5m:1m])") == "max_over_time(rate(x[1m])[5m:1m])");
  CHECK(RoundTrip("x[1h:]") == "x[1h:]");
  CHECK(RoundTrip("x offset 5m @ 100") == "x @ 100.000 offset 5m");
  CHECK(RoundTrip("x[5m] @ start() offset -1m") == "x[5m] @ start() offset -1m");
  CHECK(RoundTrip("sum(x)[10m:30s] @ end()") == "sum(x)[10m:30s] @ end()");
  CHECK(RoundTrip("x @ -1.5") == "x @ -1.500");
  CHECK(RoundTrip("a atan2 b * c") == "a atan2 b * c");
  CHECK(RoundTrip("hour()") == "hour()");
}

TEST_CASE("Operator precedence and associativity follow Prometheus", "[promql][parser]") {
  auto e = ParseExpr("1 + 2 * 3 ^ 2 ^ 2");
  REQUIRE(e.ok());
  const auto& add = static_cast<const BinaryExpr&>(**e);
  CHECK(add.op == BinOp::kAdd);
  const auto& mul = static_cast<const BinaryExpr&>(*add.rhs);
  CHECK(mul.op == BinOp::kMul);
  const auto& pow = static_cast<const BinaryExpr&>(*mul.rhs);
  CHECK(pow.op == BinOp::kPow);
  CHECK(pow.rhs->kind == NodeKind::kBinary);  // right-associative
  auto u = ParseExpr("-x ^ 2");
  REQUIRE(u.ok());
  CHECK((*u)->kind == NodeKind::kUnary);
  auto m = ParseExpr("-x * 2");
  REQUIRE(m.ok());
  CHECK((*m)->kind == NodeKind::kBinary);
  auto o = ParseExpr("a or b and c");
  REQUIRE(o.ok());
  CHECK(static_cast<const BinaryExpr&>(**o).op == BinOp::kOr);
}

TEST_CASE("Nodes keep source positions", "[promql][parser]") {
  auto e = ParseExpr("sum(rate(foo[5m]))");
  REQUIRE(e.ok());
  const auto& agg = static_cast<const AggregateExpr&>(**e);
  CHECK(agg.pos.start == 0);
  CHECK(agg.pos.end == 18);
  CHECK(agg.expr->pos.start == 4);
  CHECK(agg.expr->pos.end == 17);
  const auto& call = static_cast<const Call&>(*agg.expr);
  CHECK(call.args[0]->pos.start == 9);
  CHECK(call.args[0]->pos.end == 16);
}

TEST_CASE("Parse errors name line and column", "[promql][parser]") {
  CHECK(ErrorOf("sum(rate(x[5m])) +") == "1:19: parse error: unexpected end of input");
  CHECK(ErrorOf("foo{a=\"b\"} + * 2").rfind("1:14: parse error: unexpected", 0) == 0);
  CHECK(ErrorOf("a +\n  )").rfind("2:3: parse error:", 0) == 0);
  CHECK(ErrorOf("rate(foo)")
            .find("expected type range vector in call to function \"rate\", "
                  "got instant vector") != std::string::npos);
  CHECK(ErrorOf("1 > 2").find("comparisons between scalars must use BOOL modifier") !=
        std::string::npos);
  CHECK(ErrorOf("a and on(x) group_left b").find("no grouping allowed") != std::string::npos);
  CHECK(ErrorOf("{}").find("at least one non-empty matcher") != std::string::npos);
  CHECK(ErrorOf("{a=~\".*\"}").find("at least one non-empty matcher") != std::string::npos);
  CHECK(ErrorOf("foo{__name__=\"bar\"}").find("metric name must not be set twice") !=
        std::string::npos);
  CHECK(ErrorOf("nosuchfn(x)").find("unknown function with name \"nosuchfn\"") !=
        std::string::npos);
  CHECK(ErrorOf("1[5m:1m]").find("subquery is only allowed on instant vector, got scalar") !=
        std::string::npos);
  CHECK(ErrorOf("foo @ 1 @ 2").find("@ <timestamp> may not be set multiple times") !=
        std::string::npos);
  CHECK(ErrorOf("sum(foo) @ 1").find("@ modifier must be preceded by") != std::string::npos);
  CHECK(ErrorOf("foo @ Inf").find("timestamp out of bounds for @ modifier") != std::string::npos);
  // Beyond 2^53 ms (the bound of query times), so that `@` minus ranges cannot overflow.
  CHECK(ErrorOf("foo @ 1e16").find("timestamp out of bounds for @ modifier") != std::string::npos);
  CHECK(ErrorOf("foo[5m:0s]").find("duration must be greater than 0") != std::string::npos);
  CHECK(ErrorOf("foo offset 0s").find("duration must be greater than 0") != std::string::npos);
  CHECK(ErrorOf("foo @ 5 [5m]").find("no @ modifiers allowed before range") != std::string::npos);
  CHECK(ErrorOf("(foo)[5m]").find("ranges only allowed for vector selectors") != std::string::npos);
  CHECK(ErrorOf("sum(x, y)").find("wrong number of arguments") != std::string::npos);
  CHECK(ErrorOf("foo{a=~\"(\"}").find("invalid regular expression") != std::string::npos);
  CHECK(ErrorOf("1 and 2").find("set operator \"and\" not allowed") != std::string::npos);
  CHECK(ErrorOf("round(x, 1, 2)").find("expected at most 2 argument(s)") != std::string::npos);
  CHECK(ErrorOf("a + bool b").find("bool modifier can only be used on comparison") !=
        std::string::npos);
}

TEST_CASE("Durations parse and print like Prometheus", "[promql][duration]") {
  CHECK(ParseDuration("1h30m")->count() == 5400000);
  CHECK(ParseDuration("1y")->count() == 365LL * 86400000);
  CHECK(ParseDuration("250ms")->count() == 250);
  CHECK_FALSE(ParseDuration("30m1h").ok());
  CHECK_FALSE(ParseDuration("5").ok());
  CHECK(FormatDuration(Duration(5400000)) == "1h30m");
  CHECK(FormatDuration(Duration(14 * 86400000LL)) == "2w");
  CHECK(FormatDuration(Duration(90 * 86400000LL)) == "90d");
  CHECK(FormatDuration(Duration(1500)) == "1s500ms");
}

TEST_CASE("Keywords are case-insensitive, label names may be keywords", "[promql][parser]") {
  CHECK(ParseExpr("SUM(x) BY (on, by)").ok());
  CHECK(ParseExpr("x OFFSET 5m").ok());
  CHECK(ParseExpr("a UNLESS b").ok());
  CHECK(ParseExpr("x{bool=\"1\"}").ok());
  CHECK(ParseExpr("Inf + nan").ok());
  CHECK(ParseExpr("0x1F + 1e3 + .5").ok());
}

TEST_CASE("Deep nesting is a parse error, not a stack overflow", "[promql][parser]") {
  // Found by fuzzing: ~1,900 "(" overflowed the stack (ASan); a POST /api/v1/query with more
  // would crash the agent without it.
  auto nested = [](int n, const std::string& open, const std::string& close) {
    std::string q;
    for (int i = 0; i < n; ++i) q += open;
    q += "x";
    for (int i = 0; i < n; ++i) q += close;
    return q;
  };
  CHECK(ParseExpr(nested(100, "(", ")")).ok());
  CHECK(ParseExpr(nested(50, "abs(", ")")).ok());
  CHECK(ErrorOf(nested(100000, "(", ")")).find("nested too deeply") != std::string::npos);
  CHECK(ErrorOf(nested(5000, "sum(", ")")).find("nested too deeply") != std::string::npos);
  CHECK(ErrorOf(nested(5000, "-", "")).find("nested too deeply") != std::string::npos);
  std::string chain = "x";
  for (int i = 0; i < 300; ++i) chain += " + x";
  CHECK(ErrorOf(chain).find("nested too deeply") != std::string::npos);
  for (int i = 0; i < 5000; ++i) chain += " + x";
  CHECK(ErrorOf(chain).find("too many binary operators") != std::string::npos);
  // Longer than kMaxQueryLength: refused before it is read.
  for (int i = 0; i < 100000; ++i) chain += " + x";
  CHECK(ErrorOf(chain).find("allowed") != std::string::npos);
  std::string pow = "x";
  for (int i = 0; i < 100000; ++i) pow += " ^ x";
  CHECK_FALSE(ParseExpr(pow).ok());
  std::string ok = "x";
  for (int i = 0; i < 200; ++i) ok += " or x";
  CHECK(ParseExpr(ok).ok());
}

TEST_CASE("Walks see every child, and the reach is the farthest range plus offset",
          "[promql][ast]") {
  auto e = ParseExpr("topk(3, sum by (a) (rate(x[5m] offset 1m)) + on(a) y offset 10m) / -(z)");
  REQUIRE(e.ok());
  CHECK(MaxReachMs(**e) == 10 * 60 * 1000);
  // Every node once: /, topk, 3, +, sum, rate, x[5m], x, y, -, (), z.
  int nodes = 0, selectors = 0;
  std::vector<const Expr*> todo{e->get()};
  while (!todo.empty()) {
    const Expr* n = todo.back();
    todo.pop_back();
    ++nodes;
    if (n->kind == NodeKind::kVectorSelector) ++selectors;
    for (const Expr* c : Children(*n)) todo.push_back(c);
  }
  CHECK(nodes == 12);
  CHECK(selectors == 3);
  auto agg = ParseExpr("quantile(0.9, x)");
  REQUIRE(agg.ok());
  std::vector<const Expr*> kids = Children(**agg);
  REQUIRE(kids.size() == 2);
  CHECK(kids[0]->kind == NodeKind::kNumber);  // the parameter first, as written
  CHECK(MaxReachMs(**ParseExpr("1 + 2")) == 0);
  CHECK(MaxReachMs(**ParseExpr("x[1h]")) == 3600 * 1000);
  // A subquery's range and offset add to what its expression reads.
  CHECK(MaxReachMs(**ParseExpr("max_over_time(rate(x[1m])[10m:1m] offset 5m)")) == 16 * 60 * 1000);
  auto sq = ParseExpr("rate(x[1m])[10m:]");
  REQUIRE(sq.ok());
  CHECK((*sq)->kind == NodeKind::kSubquery);
  REQUIRE(Children(**sq).size() == 1);
  CHECK(Children(**sq)[0]->kind == NodeKind::kCall);
}

}  // namespace
}  // namespace vigil::promql
