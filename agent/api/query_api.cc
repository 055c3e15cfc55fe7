#include "agent/api/query_api.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "agent/base/duration.h"

namespace vigil {
namespace {

using nlohmann::json;

json LabelsJson(const Labels& l) {
  json out = json::object();
  for (const Label& x : l) out[x.name] = x.value;
  return out;
}

json TimeJson(TimestampMs t) { return static_cast<double>(t) / 1000.0; }

json PointJson(TimestampMs t, double v) { return json::array({TimeJson(t), FormatPromValue(v)}); }

}  // namespace

std::string FormatPromValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

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
  json out = {{"status", "error"}, {"errorType", type}, {"error", message}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string QueryResponseJson(const Result<promql::Value>& result) {
  if (!result.ok()) {
    const Status& s = result.status();
    bool bad_data = s.code() == Status::Code::kInvalidArgument;
    return ErrorJson(bad_data ? "bad_data" : "execution", s.message());
  }
  const promql::Value& v = *result;
  json data;
  switch (v.type) {
    case promql::ValueType::kScalar:
      data = {{"resultType", "scalar"}, {"result", PointJson(v.t, v.scalar)}};
      break;
    case promql::ValueType::kString:
      data = {{"resultType", "string"}, {"result", json::array({TimeJson(v.t), v.str})}};
      break;
    case promql::ValueType::kVector: {
      json arr = json::array();
      for (const promql::Sample& s : v.vector) {
        arr.push_back({{"metric", LabelsJson(s.metric)}, {"value", PointJson(s.t, s.v)}});
      }
      data = {{"resultType", "vector"}, {"result", arr}};
      break;
    }
    case promql::ValueType::kMatrix: {
      json arr = json::array();
      for (const promql::Series& s : v.matrix) {
        json values = json::array();
        for (const promql::Point& p : s.points) values.push_back(PointJson(p.t, p.v));
        arr.push_back({{"metric", LabelsJson(s.metric)}, {"values", values}});
      }
      data = {{"resultType", "matrix"}, {"result", arr}};
      break;
    }
    case promql::ValueType::kNone:
      return ErrorJson("execution", "no value");
  }
  json out = {{"status", "success"}, {"data", data}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace vigil
