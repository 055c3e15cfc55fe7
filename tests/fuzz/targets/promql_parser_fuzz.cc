// libFuzzer target: the PromQL parser. Whatever parses must print back to PromQL that parses
// to the same text, and evaluating it over a few series returns a value or an error.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "rules/promql/engine.h"
#include "rules/promql/memory_storage.h"
#include "rules/promql/parser.h"

namespace {

const vigil::promql::MemoryStorage& Storage() {
  static const vigil::promql::MemoryStorage* st = [] {
    auto* s = new vigil::promql::MemoryStorage();
    for (int i = 0; i < 8; ++i) {
      s->Add(vigil::Labels{{"__name__", "up"}, {"job", i % 2 ? "a" : "b"}}, i * 15000, i % 3);
      s->Add(vigil::Labels{{"__name__", "m"}, {"le", i % 2 ? "+Inf" : "1"}}, i * 15000, i);
    }
    return s;
  }();
  return *st;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto e = vigil::promql::ParseExpr(input);
  (void)vigil::promql::ParseSeriesLabels(input);
  if (!e.ok()) return 0;
  std::string printed = (*e)->ToString();
  auto again = vigil::promql::ParseExpr(printed);
  if (!again.ok() || (*again)->ToString() != printed) std::abort();  // round trip broken
  static const vigil::promql::Engine engine(
      vigil::promql::EngineOptions{.lookback_delta_ms = 300000, .max_samples = 100000});
  // Nested subqueries can ask for billions of steps: the deadline every caller sets bounds them.
  (void)engine.Instant(Storage(), **e, 120000,
                       vigil::promql::QueryContext::WithTimeout(std::chrono::milliseconds(200)));
  return 0;
}
