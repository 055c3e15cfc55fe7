// libFuzzer target: the Prometheus text-format parser the scrape collector uses, with inputs of
// up to several MB (run.sh gives it -max_len=8388608; no size cap here). Parsed twice: without
// limits, and with small scrape limits as a scrape config would set them. Checks: without
// limits there is never a limit error; at most kMaxStoredErrors messages are kept, each short
// (quoted input is cut); a limit error leaves no families; a parse within the limits finds
// what the unlimited one found.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "agent/base/text_parser.h"

namespace {

constexpr std::size_t kMaxMessageBytes = 512;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "exposition invariant broken: %s\n", what);
  std::abort();
}

void CheckErrors(const vigil::ParsedExposition& p) {
  if (p.errors.size() > vigil::kMaxStoredErrors) Fail("more than kMaxStoredErrors kept");
  if (p.error_count < p.errors.size()) Fail("error_count below the errors kept");
  for (const vigil::ExpositionError& e : p.errors) {
    if (e.message.size() > kMaxMessageBytes) {
      std::fprintf(stderr, "message of %zu bytes: %.300s...\n", e.message.size(),
                   e.message.c_str());
      Fail("an error message quotes too much input");
    }
  }
  if (p.limit_error.size() > kMaxMessageBytes) Fail("the limit error quotes too much input");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vigil::ParsedExposition all = vigil::ParseExposition(text);
  CheckErrors(all);
  if (!all.limit_error.empty()) Fail("a limit error without limits");

  vigil::ParsedExposition limited =
      vigil::ParseExposition(text, vigil::ExpositionLimits{.sample_limit = 500,
                                                           .label_limit = 16,
                                                           .label_name_length_limit = 64,
                                                           .label_value_length_limit = 256});
  CheckErrors(limited);
  if (!limited.limit_error.empty()) {
    if (!limited.families.empty()) Fail("families kept after a limit error");
  } else if (limited.samples != all.samples || limited.families.size() != all.families.size() ||
             limited.error_count != all.error_count) {
    Fail("a parse within the limits differs from the unlimited one");
  }

  double v;
  vigil::ParseExpositionValue(text.substr(0, 64), v);
  return 0;
}
