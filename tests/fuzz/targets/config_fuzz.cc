// libFuzzer target: the config loader (vigil.yml), every collector's config parser included.
#include <cstdint>
#include <string>

#include "agent/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)vigil::ParseConfig(text, "/nonexistent-vigil-fuzz/vigil.yml");
  return 0;
}
