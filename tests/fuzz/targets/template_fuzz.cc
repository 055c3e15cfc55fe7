// libFuzzer target: the alert template engine. The input is a template text, parsed and
// executed with an alert's labels, a $value chosen by the input's size (0, fractions, huge,
// tiny, negative, NaN, +-Inf) and a query function that answers two samples. What executes
// must stay within kMaxTemplateOutputBytes; a limit hit is always an error; an error's text
// (what an annotation then shows) stays bounded too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "rules/template.h"

namespace {

const vigil::rules::TemplateData& Data(std::size_t size) {
  static const double kValues[] = {0,
                                   0.9731,
                                   1234567.891,
                                   -42,
                                   1e300,
                                   1e-300,
                                   std::numeric_limits<double>::quiet_NaN(),
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity(),
                                   1.7e9};
  static std::vector<vigil::rules::TemplateData>* all = [] {
    auto* v = new std::vector<vigil::rules::TemplateData>();
    for (double value : kValues) {
      v->push_back(
          vigil::rules::TemplateData{.labels = vigil::Labels{{"alertname", "HighLatency"},
                                                             {"instance", "db-1:9187"},
                                                             {"job", "api"},
                                                             {"route", "/users/{id}"},
                                                             {"severity", "critical"},
                                                             {"target", "caf\xc3\xa9 \"q\" <b>"}},
                                     .external_labels = vigil::Labels{{"cluster", "eu-1"}},
                                     .external_url = "http://vigil.example:9090/prefix",
                                     .value = value});
    }
    return v;
  }();
  return (*all)[size % all->size()];
}

vigil::Result<vigil::promql::Vector> Query(const std::string& query) {
  if (query.empty()) return vigil::Status::InvalidArgument("empty query");
  vigil::promql::Vector v;
  v.push_back(vigil::promql::Sample{
      .metric = vigil::Labels{{"__name__", "up"}, {"instance", "a:1"}, {"job", "api"}},
      .v = 1,
      .t = 1700000000000});
  v.push_back(vigil::promql::Sample{
      .metric = vigil::Labels{{"instance", "b:2"}, {"job", "db"}}, .v = 0.25, .t = 1700000000000});
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto t = vigil::rules::Template::Parse("fuzz", text);
  if (!t.ok()) return 0;
  bool limit_hit = false;
  auto out = t->Execute(Data(size), Query, &limit_hit);
  if (out.ok()) {
    if (limit_hit) {
      std::fprintf(stderr, "template: a limit was hit but Execute succeeded\n");
      std::abort();
    }
    if (out->size() > vigil::rules::kMaxTemplateOutputBytes) {
      std::fprintf(stderr, "template: output of %zu bytes, more than the bound\n", out->size());
      std::abort();
    }
  } else if (out.status().message().size() > vigil::rules::kMaxTemplateOutputBytes + 4096) {
    std::fprintf(stderr, "template: error message of %zu bytes\n", out.status().message().size());
    std::abort();
  }
  return 0;
}
