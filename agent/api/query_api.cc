#include "agent/api/query_api.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "agent/base/duration.h"

namespace vigil {

std::optional<TimestampMs> ParseTimeParam(std::string_view text) {
  double secs = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (ec == std::errc() && end == text.data() + text.size()) {
    return static_cast<TimestampMs>(std::llround(secs * 1000.0));
  }
  std::tm tm{};
  std::string s(text);
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  double frac = 0;
  if (*rest == '.') {
    char* after = nullptr;
    frac = std::strtod(rest, &after);
    rest = after;
  }
  if (*rest != 'Z' || rest[1] != '\0') return std::nullopt;  // UTC only
  return static_cast<TimestampMs>(timegm(&tm)) * 1000 +
         static_cast<TimestampMs>(std::llround(frac * 1000));
}

std::optional<std::int64_t> ParseStepParam(std::string_view text) {
  double secs = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (secs <= 0) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(secs * 1000.0));
  }
  Result<Duration> d = ParseDuration(text);
  if (!d.ok() || d->count() <= 0) return std::nullopt;
  return d->count();
}

std::string ErrorJson(std::string_view type, std::string_view message) {
  nlohmann::json out = {{"status", "error"}, {"errorType", type}, {"error", message}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vigil
