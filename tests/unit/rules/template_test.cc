#include "rules/template.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace vigil::rules {
namespace {

std::string Expand(const std::string& text, double value,
                   Labels labels = Labels{{"__name__", "m"}, {"a", "1"}}) {
  TemplateData data;
  data.labels = std::move(labels);
  data.value = value;
  data.external_labels = Labels{{"env", "prod"}};
  data.external_url = "http://vigil:9633";
  TemplateQueryFunc query = [](const std::string& q) -> Result<promql::Vector> {
    if (q == "empty") return promql::Vector{};
    if (q == "bad") return Status::InvalidArgument("parse error");
    return promql::Vector{promql::Sample{Labels{{"instance", "b"}}, 2, 0},
                          promql::Sample{Labels{{"instance", "a"}}, 1.5, 0}};
  };
  return ExpandAlertTemplate("__alert_A", text, data, query);
}

// Expected strings below were produced by promtool 2.42 for the same templates.
TEST_CASE("Template values print like Go", "[rules][template]") {
  CHECK(Expand("{{ $value }}", 1234567) == "1.234567e+06");
  CHECK(Expand("{{ $value }}", 0.000012345) == "1.2345e-05");
  CHECK(Expand("{{ $value }}", 100000) == "100000");
  CHECK(Expand("{{ .Value }}", 0.5) == "0.5");
  CHECK(Expand("{{ $labels }}", 1) == "map[__name__:m a:1]");
  CHECK(Expand("{{ $labels.a }}/{{ .Labels.a }}/{{ $labels.missing }}.", 1) == "1/1/.");
  CHECK(Expand("{{ $externalLabels.env }} {{ $externalURL }}", 1) == "prod http://vigil:9633");
}

TEST_CASE("Template humanize functions match Prometheus", "[rules][template]") {
  const char* h =
      "{{ humanize $value }} {{ humanize1024 $value }} {{ humanizeDuration $value }} "
      "{{ humanizePercentage $value }}";
  CHECK(Expand(h, 1234567) == "1.235M 1.177Mi 14d 6h 56m 7s 1.235e+08%");
  CHECK(Expand(h, 0.000012345) == "12.35u 1.234e-05 12.35us 0.001234%");
  CHECK(Expand(h, 1.2345678901234569e+23) ==
        "123.5Z 104.6Zi -106751991167300d -15h -30m -8s 1.235e+25%");
  CHECK(Expand(h, 100000) == "100k 97.66ki 1d 3h 46m 40s 1e+07%");
  CHECK(Expand("{{ humanizeDuration 0 }} {{ humanizeDuration 42.5 }}", 0) == "0s 42.5s");
  CHECK(Expand("{{ humanize \"2048\" | printf \"%s!\" }}", 0) == "2.048k!");
}

TEST_CASE("Template printf follows Go fmt", "[rules][template]") {
  CHECK(Expand("{{ printf \"%.2f|%d|%s|%v|%5.1f\" $value 3 \"x\" $value 2.5 }}", 1234567) ==
        "1234567.00|3|x|1.234567e+06|  2.5");
  CHECK(Expand("{{ printf \"%d\" $value }}", 1.5) == "%!d(float64=1.5)");
  CHECK(Expand("{{ printf \"%s %s\" \"a\" }}", 0) == "a %!s(MISSING)");
  CHECK(Expand("{{ printf \"%.1f%%\" 99.44 }}", 0) == "99.4%");
}

TEST_CASE("Template control flow", "[rules][template]") {
  CHECK(Expand("{{ if gt $value 10.0 }}high{{ else if gt $value 5.0 }}mid{{ else }}low{{ end }}",
               7) == "mid");
  CHECK(Expand("{{ if gt $value 10.0 }}high{{ else }}low{{ end }}", 70) == "high");
  CHECK(Expand("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}", 0) == "__name__=m;a=1;");
  CHECK(
      Expand(
          "{{ with $labels.a }}a is {{ . }}{{ end }}{{ with $labels.zz }}no{{ else }}none{{ end }}",
          0) == "a is 1none");
  CHECK(Expand("  {{- $value -}}  !", 3) == "3!");
  CHECK(Expand("{{ $x := 5 }}{{ $x }}{{ if true }}{{ $x = 6 }}{{ end }}{{ $x }}", 0) == "56");
  CHECK(Expand("{{ if and (eq $labels.a \"1\") (not false) }}y{{ end }}", 0) == "y");
}

TEST_CASE("Template query functions", "[rules][template]") {
  CHECK(Expand("{{ query \"x\" | first | value }}", 0) == "2");
  CHECK(Expand("{{ with query \"x\" }}{{ . | first | label \"instance\" }}{{ end }}", 0) == "b");
  CHECK(Expand("{{ range query \"x\" | sortByLabel \"instance\" }}{{ .Labels.instance }}={{ .Value "
               "}} {{ end }}",
               0) == "a=1.5 b=2 ");
  CHECK(Expand("{{ range query \"empty\" }}x{{ else }}none{{ end }}", 0) == "none");
  CHECK(Expand("{{ query \"empty\" | first | value }}", 0).rfind("<error expanding template:", 0) ==
        0);
  CHECK(Expand("{{ query \"bad\" }}", 0).find("parse error") != std::string::npos);
}

TEST_CASE("Template errors render as text", "[rules][template]") {
  std::string e = Expand("{{ humanize \"abc\" }}", 0);
  CHECK(e.rfind("<error expanding template: error executing template __alert_A:", 0) == 0);
  CHECK(e.find("error calling humanize: strconv.ParseFloat: parsing \"abc\": invalid syntax>") !=
        std::string::npos);
  CHECK(Expand("{{ nosuchfn 1 }}", 0).find("function \"nosuchfn\" not defined") !=
        std::string::npos);
  CHECK(Expand("{{ if 1 }}unclosed", 0).rfind("<error expanding template:", 0) == 0);
  CHECK(Expand("{{ gt $value 1 }}", 5).find("incompatible types for comparison") !=
        std::string::npos);
  CHECK(Expand("no actions at all", 0) == "no actions at all");
}

// Runs `text` and says whether it stopped at one of the template bounds.
struct Bounded {
  std::string out;
  std::string error;
};
Bounded ExpandBounded(const std::string& text, int* queries = nullptr) {
  TemplateData data;
  data.labels = Labels{{"instance", "a"}};
  data.value = 1;
  TemplateQueryFunc query = [queries](const std::string&) -> Result<promql::Vector> {
    if (queries) ++*queries;
    return promql::Vector{promql::Sample{Labels{{"instance", "a"}}, 1, 0}};
  };
  Bounded b;
  b.out = ExpandAlertTemplate("__alert_A", text, data, query, &b.error);
  return b;
}

TEST_CASE("Template printf widths and precisions are bounded", "[rules][template]") {
  // A literal format over the bound is a parse error: `vigil check rules` refuses the file.
  for (const char* t :
       {"{{ printf \"%999999999d\" 1 }}", "{{ printf \"%.99999999999999999999f\" 1.5 }}",
        "{{ printf \"%4097s\" \"x\" }}", "{{ printf \"%-+ 05000.1f\" 1.0 }}"}) {
    CAPTURE(t);
    auto parsed = Template::Parse("t", t);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().message().find("width or precision over 4096") != std::string::npos);
  }
  // At the bound it works, and pads as Go does.
  Bounded at = ExpandBounded("{{ printf \"%4096d\" 7 }}|{{ printf \"%.3s\" \"abcdef\" }}");
  CHECK(at.error.empty());
  CHECK(at.out.size() == 4096 + 4);
  CHECK(at.out.substr(4094) == " 7|abc");
  // A format built at run time cannot be checked at parse time: a limit error when it runs.
  Bounded built = ExpandBounded("{{ printf (printf \"%%%dd\" 999999999) 1 }}");
  CHECK(built.error.find("width or precision over 4096") != std::string::npos);
  CHECK(built.out.rfind("<error expanding template: ", 0) == 0);
  CHECK(ExpandBounded("{{ printf \"%.1000000f\" 1.0 }}").out.rfind("<error expanding", 0) == 0);
}

TEST_CASE("Template execution is bounded in output, steps, queries and nesting",
          "[rules][template]") {
  // Output size: text that doubles its way past 64 KiB through variables and printf.
  std::string doubling = "{{ $s := \"xxxxxxxxxxxxxxxx\" }}";
  for (int i = 0; i < 30; ++i) doubling += "{{ $s = printf \"%s%s\" $s $s }}";
  doubling += "{{ $s }}";
  Bounded big = ExpandBounded(doubling);
  CHECK(big.error.find("over 65536 bytes") != std::string::npos);
  CHECK(big.out.size() < 1024);
  Bounded wide = ExpandBounded("{{ range 10000 }}0123456789{{ end }}");
  CHECK(wide.error.find("output over 65536 bytes") != std::string::npos);
  // Steps: a loop that prints nothing still stops (one step per iteration).
  Bounded loop = ExpandBounded("{{ range 1000000000000 }}{{ end }}");
  CHECK(loop.error.find("stopped after 100000 steps") != std::string::npos);
  Bounded nested = ExpandBounded("{{ range 1000 }}{{ range 1000 }}{{ end }}{{ end }}");
  CHECK(nested.error.find("steps") != std::string::npos);
  // Queries: at most 100 per expansion; the 101st is never run.
  int queries = 0;
  Bounded q = ExpandBounded("{{ range 1000 }}{{ query \"up\" | len }}{{ end }}", &queries);
  CHECK(q.error.find("more than 100 queries") != std::string::npos);
  CHECK(queries == 100);
  // reReplaceAll whose result could pass 16 MiB is refused before it is built.
  std::string blow = "{{ $s := \"" + std::string(4000, 'a') + "\" }}{{ reReplaceAll \"\" ";
  blow += "\"" + std::string(5000, 'b') + "\" $s }}";
  CHECK(ExpandBounded(blow).error.find("16 MiB") != std::string::npos);
  // Nesting: parse errors, no stack overflow.
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "{{ if 1 }}";
  for (int i = 0; i < 5000; ++i) deep += "{{ end }}";
  auto d = Template::Parse("t", deep);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("nested deeper than 100") != std::string::npos);
  std::string parens = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  auto p = Template::Parse("t", parens);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message().find("nested deeper than 100") != std::string::npos);
  // Errors of the template itself are not limit errors.
  Bounded own = ExpandBounded("{{ index 1 2 }}");
  CHECK(own.error.empty());
  CHECK(own.out.rfind("<error expanding template: ", 0) == 0);
}

TEST_CASE("Template humanize functions take any float", "[rules][template]") {
  const double kValues[] = {std::nan(""), HUGE_VAL, -HUGE_VAL, 1e308,   -1e308,
                            5e-324,       -0.0,     9.3e18,    -9.3e18, 1e300};
  for (double v : kValues) {
    CAPTURE(v);
    TemplateData data;
    data.value = v;
    for (const char* f : {"humanize", "humanize1024", "humanizeDuration", "humanizePercentage",
                          "humanizeTimestamp"}) {
      CAPTURE(f);
      std::string out = ExpandAlertTemplate(
          "t", std::string("{{ ") + f + " $value }}", data,
          [](const std::string&) -> Result<promql::Vector> { return promql::Vector{}; });
      CHECK_FALSE(out.empty());
      CHECK(out.size() < 200);
    }
  }
  // Out of int64 nanoseconds Go gives 1677-09-21 (the minimum time), as vigil does.
  CHECK(Expand("{{ humanizeTimestamp $value }}", 1e300).rfind("1677-09-21 00:12:43", 0) == 0);
}

TEST_CASE("Template functions: unknown names fail to parse, Prometheus's own load",
          "[rules][template]") {
  auto unknown = Template::Parse("t", "{{ humanise $value }}");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("function \"humanise\" not defined") != std::string::npos);
  CHECK(Template::Parse("t", "{{ graphLink \"up\" }} {{ toTime 1 }}").ok());
  CHECK(Expand("{{ graphLink \"up\" }}", 0)
            .find("function \"graphLink\" is not supported by "
                  "vigil yet") != std::string::npos);
  CHECK(Expand("{{ externalURL }}|{{ pathPrefix }}", 0) == "http://vigil:9633|");
  CHECK(Expand("{{ stripPort \"db:5432\" }} {{ stripPort \"[::1]:9\" }} {{ stripPort \"db\" }} "
               "{{ stripPort \"a:b:c\" }}",
               0) == "db ::1 db a:b:c");
  CHECK(Expand("{{ println 1 \"a\" 2 }}", 0) == "1 a 2\n");
}

}  // namespace
}  // namespace vigil::rules
