#include "rules/promql/duration.h"

#include <cctype>
#include <limits>

namespace vigil::promql {
namespace {

struct Unit {
  const char* name;
  std::int64_t ms;
};
constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                           {"w", 7LL * 24 * 3600 * 1000},
                           {"d", 24LL * 3600 * 1000},
                           {"h", 3600LL * 1000},
                           {"m", 60LL * 1000},
                           {"s", 1000},
                           {"ms", 1}};

}  // namespace

Result<std::int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("not a valid duration string: \"" + std::string(text) + "\"");
  };
  if (text.empty()) return bad();
  if (text == "0") return std::int64_t{0};
  std::int64_t total = 0;
  std::size_t i = 0;
  int last_unit = -1;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    std::int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (n > std::numeric_limits<std::int64_t>::max() / 10) return bad();
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    std::size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    std::string_view unit = text.substr(i, j - i);
    int idx = -1;
    for (int u = 0; u < 7; ++u) {
      if (unit == kUnits[u].name) idx = u;
    }
    if (idx < 0 || idx <= last_unit) return bad();
    last_unit = idx;
    if (n > std::numeric_limits<std::int64_t>::max() / kUnits[idx].ms) return bad();
    total += n * kUnits[idx].ms;
    if (total < 0) return bad();
    i = j;
  }
  return total;
}

std::string FormatDuration(std::int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  // Like Prometheus' model.Duration: years and weeks only when they divide exactly.
  auto emit = [&](std::int64_t unit, const char* name) {
    if (ms >= unit) {
      out += std::to_string(ms / unit) + name;
      ms %= unit;
    }
  };
  const std::int64_t y = kUnits[0].ms, w = kUnits[1].ms;
  if (ms % y == 0) return out + std::to_string(ms / y) + "y";
  if (ms % w == 0) return out + std::to_string(ms / w) + "w";
  emit(kUnits[2].ms, "d");
  emit(kUnits[3].ms, "h");
  emit(kUnits[4].ms, "m");
  emit(kUnits[5].ms, "s");
  emit(1, "ms");
  return out;
}

}  // namespace vigil::promql
