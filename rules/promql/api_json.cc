#include "rules/promql/api_json.h"

#include <cstdio>

#include "agent/base/utf8.h"

namespace vigil::promql {
namespace {

std::string MetricJson(const Labels& l) {
  std::string out = "{";
  bool first = true;
  for (const auto& lab : l) {
    if (!first) out += ",";
    first = false;
    out += JsonString(lab.name) + ":" + JsonString(lab.value);
  }
  return out + "}";
}

std::string PointJson(TimestampMs t, double v) {
  return "[" + JsonTimestamp(t) + "," + JsonString(FormatValue(v)) + "]";
}

}  // namespace

std::string JsonString(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string valid;
  std::string_view s = text;
  if (!IsValidUtf8(text)) {
    valid = ToValidUtf8(text);
    s = valid;
  }
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
      case '>':
      case '&':
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else if (c == 0xe2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xa8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string JsonTimestamp(TimestampMs t) {
  std::string out;
  if (t < 0) {
    out = "-";
    t = -t;
  }
  out += std::to_string(t / 1000);
  if (t % 1000 != 0) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), ".%03d", static_cast<int>(t % 1000));
    out += buf;
  }
  return out;
}

std::string FormatQueryResponse(const Value& v) {
  std::string type, result;
  switch (v.type) {
    case ValueType::kScalar:
      type = "scalar";
      result = PointJson(v.t, v.scalar);
      break;
    case ValueType::kString:
      type = "string";
      result = "[" + JsonTimestamp(v.t) + "," + JsonString(v.str) + "]";
      break;
    case ValueType::kVector:
      type = "vector";
      result = "[";
      for (std::size_t i = 0; i < v.vector.size(); ++i) {
        if (i) result += ",";
        result += "{\"metric\":" + MetricJson(v.vector[i].metric) +
                  ",\"value\":" + PointJson(v.vector[i].t, v.vector[i].v) + "}";
      }
      result += "]";
      break;
    case ValueType::kMatrix:
    case ValueType::kNone:
      type = "matrix";
      result = "[";
      for (std::size_t i = 0; i < v.matrix.size(); ++i) {
        if (i) result += ",";
        result += "{\"metric\":" + MetricJson(v.matrix[i].metric) + ",\"values\":[";
        for (std::size_t j = 0; j < v.matrix[i].points.size(); ++j) {
          if (j) result += ",";
          result += PointJson(v.matrix[i].points[j].t, v.matrix[i].points[j].v);
        }
        result += "]}";
      }
      result += "]";
      break;
  }
  return "{\"status\":\"success\",\"data\":{\"resultType\":\"" + type + "\",\"result\":" + result +
         "}}";
}

std::string_view QueryErrorType(const Status& status) {
  switch (status.code()) {
    case Status::Code::kDeadlineExceeded:
      return "timeout";
    case Status::Code::kCancelled:
      return "canceled";
    case Status::Code::kResourceExhausted:
      return "execution";
    case Status::Code::kUnavailable:
      return "unavailable";
    case Status::Code::kInternal:
      return "internal";
    default:
      break;
  }
  // Parse errors and query validation errors are "bad_data" in Prometheus' API.
  const std::string& m = status.message();
  const bool parse = m.find("parse error") != std::string::npos ||
                     m.rfind("invalid expression type", 0) == 0 ||
                     m.rfind("zero or negative query resolution step", 0) == 0 ||
                     m.rfind("end timestamp must not be before start time", 0) == 0 ||
                     m.rfind("invalid parameter", 0) == 0;
  return parse ? "bad_data" : "execution";
}

int QueryErrorHttpStatus(const Status& status) {
  std::string_view type = QueryErrorType(status);
  if (type == "bad_data") return 400;
  if (type == "timeout" || type == "unavailable") return 503;
  if (type == "canceled") return 499;  // Prometheus: the client closed the connection
  if (type == "internal") return 500;
  return 422;
}

std::string FormatQueryError(const Status& status) {
  return "{\"status\":\"error\",\"errorType\":\"" + std::string(QueryErrorType(status)) +
         "\",\"error\":" + JsonString(status.message()) + "}";
}

std::string FormatQueryResult(const Result<Value>& r) {
  return r.ok() ? FormatQueryResponse(*r) : FormatQueryError(r.status());
}

}  // namespace vigil::promql
