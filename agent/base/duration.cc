#include "agent/base/duration.h"

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

namespace vigil {
namespace {
constexpr std::int64_t kSecond = 1000;
constexpr std::array<std::pair<std::string_view, std::int64_t>, 7> kUnits{{
    {"y", 365 * 24 * 3600 * kSecond},
    {"w", 7 * 24 * 3600 * kSecond},
    {"d", 24 * 3600 * kSecond},
    {"h", 3600 * kSecond},
    {"m", 60 * kSecond},
    {"s", kSecond},
    {"ms", 1},
}};
}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("not a valid duration string: \"" + std::string(text) + "\"");
  };
  if (text == "0") return Duration(0);
  if (text.empty()) return bad();
  std::int64_t total = 0;
  std::size_t pos = 0;
  std::size_t next_unit = 0;  // units must come in decreasing order, each once
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  while (pos < text.size()) {
    std::size_t start = pos;
    std::int64_t n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n > (kMax - (text[pos] - '0')) / 10) return bad();
      n = n * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) return bad();
    std::size_t unit_end = pos;
    while (unit_end < text.size() && (text[unit_end] < '0' || text[unit_end] > '9')) ++unit_end;
    std::string_view unit = text.substr(pos, unit_end - pos);
    std::size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].first != unit) ++u;
    if (u == kUnits.size()) return bad();
    // Out of range, as Prometheus's model.ParseDuration has it: "499111111541y" overflowed.
    if (n > (kMax - total) / kUnits[u].second) return bad();
    total += n * kUnits[u].second;
    next_unit = u + 1;
    pos = unit_end;
  }
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;  // durations here are far from INT64_MIN (ParseDuration's bound)
  }
  const std::int64_t year = kUnits[0].second, week = kUnits[1].second;
  if (ms % year == 0) return out + std::to_string(ms / year) + "y";
  if (ms % week == 0) return out + std::to_string(ms / week) + "w";
  for (std::size_t u = 2; u < kUnits.size(); ++u) {  // d h m s ms
    const auto& [unit, size] = kUnits[u];
    if (ms >= size) {
      out += std::to_string(ms / size);
      out += unit;
      ms %= size;
    }
  }
  return out;
}

}  // namespace vigil
