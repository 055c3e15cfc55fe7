// libFuzzer target: the rule-file loader (YAML, rule validation, templates checked at load).
#include <cstdint>
#include <string>

#include "rules/rule_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)vigil::rules::ParseRuleFile(text, "fuzz.yml");
  return 0;
}
