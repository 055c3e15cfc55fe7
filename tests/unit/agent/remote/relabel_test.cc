#include "agent/remote/relabel.h"

#include <catch2/catch.hpp>

namespace vigil::remote {
namespace {

RelabelConfig Make(RelabelRule r) {
  Result<RelabelConfig> c = RelabelConfig::Make(std::move(r));
  REQUIRE(c.ok());
  return c.value();
}

const Labels kSeries{{"__name__", "pg_up"}, {"instance", "db1:5432"}, {"job", "vigil"}};

TEST_CASE("relabel keep and drop match the joined source labels, anchored", "[remote]") {
  RelabelRule keep;
  keep.action = RelabelAction::kKeep;
  keep.source_labels = {"__name__"};
  keep.regex = "pg_.*";
  Labels l = kSeries;
  CHECK(Make(keep).Apply(l));
  keep.regex = "pg";  // anchored: a prefix is not a match
  CHECK_FALSE(Make(keep).Apply(l));

  RelabelRule drop;
  drop.action = RelabelAction::kDrop;
  drop.source_labels = {"__name__", "job"};
  drop.regex = "pg_up;vigil";
  CHECK_FALSE(Make(drop).Apply(l));
  drop.separator = "/";
  CHECK(Make(drop).Apply(l));
  drop.regex = "pg_up/vigil";
  CHECK_FALSE(Make(drop).Apply(l));
  // A missing source label reads as "".
  drop.source_labels = {"absent"};
  drop.regex = "";
  CHECK_FALSE(Make(drop).Apply(l));
}

TEST_CASE("relabel replace expands groups into target and value", "[remote]") {
  RelabelRule r;
  r.source_labels = {"instance"};
  r.regex = "([^:]+):(\\d+)";
  r.target_label = "host";
  Labels l = kSeries;
  REQUIRE(Make(r).Apply(l));
  CHECK(l.Get("host") == "db1");

  r.replacement = "${1}-$2 $$x";
  r.target_label = "addr";
  REQUIRE(Make(r).Apply(l));
  CHECK(l.Get("addr") == "db1-5432 $x");

  r.regex = "(?P<h>[^:]+):(?P<port>\\d+)";
  r.replacement = "$port";
  r.target_label = "port_$h";
  REQUIRE(Make(r).Apply(l));
  CHECK(l.Get("port_db1") == "5432");

  // $1x names group "1x", which does not exist: empty, as Go's Expand does.
  r.regex = "(.*)";
  r.replacement = "$1x";
  r.target_label = "addr";
  REQUIRE(Make(r).Apply(l));
  CHECK_FALSE(l.Has("addr"));  // an empty value removes the label

  // No match: nothing changes.
  Labels before = l;
  r.regex = "nomatch";
  r.replacement = "v";
  REQUIRE(Make(r).Apply(l));
  CHECK(l == before);

  // An invalid target label name is skipped.
  r.regex = "(.*)";
  r.target_label = "bad-name";
  REQUIRE(Make(r).Apply(l));
  CHECK(l == before);

  // The default: source "", regex (.*), replacement $1 writes a constant when given one.
  RelabelRule c;
  c.target_label = "env";
  c.replacement = "prod";
  REQUIRE(Make(c).Apply(l));
  CHECK(l.Get("env") == "prod");
}

TEST_CASE("relabel labeldrop and labelkeep match label names", "[remote]") {
  RelabelRule r;
  r.action = RelabelAction::kLabelDrop;
  r.regex = "inst.*";
  Labels l = kSeries;
  REQUIRE(Make(r).Apply(l));
  CHECK(l == Labels{{"__name__", "pg_up"}, {"job", "vigil"}});

  r.action = RelabelAction::kLabelKeep;
  r.regex = "__name__|instance";
  l = kSeries;
  REQUIRE(Make(r).Apply(l));
  CHECK(l == Labels{{"__name__", "pg_up"}, {"instance", "db1:5432"}});
}

TEST_CASE("relabel configs are checked when built", "[remote]") {
  RelabelRule bad;
  bad.regex = "(";
  bad.target_label = "x";
  CHECK_FALSE(RelabelConfig::Make(bad).ok());
  RelabelRule no_target;
  CHECK_FALSE(RelabelConfig::Make(no_target).ok());
  RelabelRule ld;
  ld.action = RelabelAction::kLabelDrop;
  ld.source_labels = {"a"};
  CHECK_FALSE(RelabelConfig::Make(ld).ok());
  CHECK_FALSE(ParseRelabelAction("hashmod").has_value());
}

TEST_CASE("Relabel runs steps in order and stops at a drop", "[remote]") {
  RelabelRule set;
  set.target_label = "tier";
  set.replacement = "db";
  RelabelRule drop;
  drop.action = RelabelAction::kDrop;
  drop.source_labels = {"tier"};
  drop.regex = "db";
  std::vector<RelabelConfig> steps = {Make(set), Make(drop)};
  Labels l = kSeries;
  CHECK_FALSE(Relabel(steps, l));
  std::vector<RelabelConfig> only_set = {Make(set)};
  l = kSeries;
  CHECK(Relabel(only_set, l));
  CHECK(l.Get("tier") == "db");
}

}  // namespace
}  // namespace vigil::remote
