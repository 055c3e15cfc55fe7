#include "rules/template.h"

#include <catch2/catch.hpp>

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

}  // namespace
}  // namespace vigil::rules
