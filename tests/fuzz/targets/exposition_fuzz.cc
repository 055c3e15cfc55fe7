// libFuzzer target: the Prometheus text-format parser the scrape collector uses.
#include <cstdint>
#include <string_view>

#include "collectors/scrape/text_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vigil::ParseExposition(text);
  double v;
  vigil::ParseExpositionValue(text.substr(0, 64), v);
  return 0;
}
