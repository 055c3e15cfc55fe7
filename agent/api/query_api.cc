#include "agent/api/query_api.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "agent/base/duration.h"
#include "rules/promql/api_json.h"
#include "rules/promql/parser.h"

namespace vigil {
namespace {

constexpr char kJson[] = "application/json";

bool InRange(TimestampMs ms) {
  return ms >= -promql::kMaxQueryDurationMs && ms <= promql::kMaxQueryDurationMs;
}

// Seconds (finite, within the bound) to milliseconds.
std::optional<TimestampMs> SecondsToMs(double secs) {
  if (!std::isfinite(secs)) return std::nullopt;
  double ms = std::round(secs * 1000.0);
  if (std::fabs(ms) > static_cast<double>(promql::kMaxQueryDurationMs)) return std::nullopt;
  return static_cast<TimestampMs>(ms);
}

void BadData(http::Response& res, std::string_view message) {
  res.Set(400, ErrorJson("bad_data", message), kJson);
}

// The query's context: the engine's timeout, or the request's shorter `timeout`.
std::optional<promql::QueryContext> ContextFor(const promql::Engine& engine,
                                               const http::Request& req, http::Response& res) {
  std::chrono::milliseconds timeout = engine.options().timeout;
  if (req.HasParam("timeout")) {
    std::optional<std::int64_t> t = ParseStepParam(req.Param("timeout"));
    if (!t) {
      BadData(res, "invalid parameter \"timeout\": want a positive duration");
      return std::nullopt;
    }
    timeout = std::min(timeout, std::chrono::milliseconds(*t));
  }
  auto start = req.received == std::chrono::steady_clock::time_point()
                   ? std::chrono::steady_clock::now()
                   : req.received;
  return promql::QueryContext(start + timeout, req.cancelled);
}

void Answer(const Result<promql::Value>& v, http::Response& res) {
  res.Set(v.ok() ? 200 : promql::QueryErrorHttpStatus(v.status()), promql::FormatQueryResult(v),
          kJson);
}

}  // namespace

std::optional<TimestampMs> ParseTimeParam(std::string_view text) {
  double secs = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (ec == std::errc() && end == text.data() + text.size()) return SecondsToMs(secs);
  if (text.size() > 64) return std::nullopt;
  std::tm tm{};
  std::string s(text);
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  double frac = 0;
  if (*rest == '.') {
    char* after = nullptr;
    frac = std::strtod(rest, &after);
    rest = after;
    if (!std::isfinite(frac) || frac < 0 || frac >= 1) return std::nullopt;
  }
  if (*rest != 'Z' || rest[1] != '\0') return std::nullopt;  // UTC only
  time_t secs_since_epoch = timegm(&tm);
  if (secs_since_epoch == static_cast<time_t>(-1) && tm.tm_year != 69) return std::nullopt;
  TimestampMs ms = static_cast<TimestampMs>(secs_since_epoch) * 1000 +
                   static_cast<TimestampMs>(std::llround(frac * 1000));
  if (!InRange(ms)) return std::nullopt;
  return ms;
}

std::optional<std::int64_t> ParseStepParam(std::string_view text) {
  double secs = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  std::int64_t ms = 0;
  if (ec == std::errc() && end == text.data() + text.size()) {
    std::optional<TimestampMs> parsed = SecondsToMs(secs);
    if (!parsed) return std::nullopt;
    ms = *parsed;
  } else {
    Result<Duration> d = ParseDuration(text);
    if (!d.ok()) return std::nullopt;
    ms = d->count();
  }
  if (ms <= 0 || ms > promql::kMaxQueryDurationMs) return std::nullopt;
  return ms;
}

std::string ErrorJson(std::string_view type, std::string_view message) {
  nlohmann::json out = {{"status", "error"}, {"errorType", type}, {"error", message}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void ServeInstantQuery(const promql::Engine& engine, const promql::Querier& querier,
                       const http::Request& req, TimestampMs now, http::Response& res) {
  TimestampMs t = now;
  if (req.HasParam("time")) {
    std::optional<TimestampMs> parsed = ParseTimeParam(req.Param("time"));
    if (!parsed) {
      BadData(res,
              "invalid parameter \"time\": want Unix seconds or RFC 3339, finite and "
              "within 2^53 ms of the epoch");
      return;
    }
    t = *parsed;
  }
  std::optional<promql::QueryContext> ctx = ContextFor(engine, req, res);
  if (!ctx) return;
  Answer(engine.InstantQuery(querier, req.Param("query"), t, *ctx), res);
}

void ServeRangeQuery(const promql::Engine& engine, const promql::Querier& querier,
                     const http::Request& req, http::Response& res) {
  std::optional<TimestampMs> start = ParseTimeParam(req.Param("start"));
  if (!start) {
    BadData(res,
            "invalid parameter \"start\": want Unix seconds or RFC 3339, finite and "
            "within 2^53 ms of the epoch");
    return;
  }
  std::optional<TimestampMs> end = ParseTimeParam(req.Param("end"));
  if (!end) {
    BadData(res,
            "invalid parameter \"end\": want Unix seconds or RFC 3339, finite and "
            "within 2^53 ms of the epoch");
    return;
  }
  if (*end < *start) {
    BadData(res, "end timestamp must not be before start time");
    return;
  }
  std::optional<std::int64_t> step = ParseStepParam(req.Param("step"));
  if (!step) {
    BadData(res,
            "invalid parameter \"step\": zero, negative or sub-millisecond query resolution "
            "step widths are not accepted. Try a positive integer");
    return;
  }
  if ((*end - *start) / *step > kMaxPointsPerSeries) {
    BadData(res,
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing "
            "the query resolution (?step=XX)");
    return;
  }
  std::optional<promql::QueryContext> ctx = ContextFor(engine, req, res);
  if (!ctx) return;
  Answer(engine.RangeQuery(querier, req.Param("query"), *start, *end, *step, *ctx), res);
}

}  // namespace vigil
