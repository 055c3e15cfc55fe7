#include "rules/promql/openmetrics_loader.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "rules/promql/series_notation.h"

namespace vigil::promql {
namespace {

bool IsNameChar(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

}  // namespace

Status LoadOpenMetrics(std::string_view text, MemoryStorage* out, TimestampMs default_ts) {
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](const std::string& msg) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": " + msg);
    };
    std::size_t i = 0;
    while (i < line.size() && IsNameChar(line[i], i == 0)) ++i;
    if (i == 0) return bad("expected a metric name");
    Labels labels;
    labels.Set("__name__", line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t s = i;
        while (i < line.size() && IsNameChar(line[i], i == s) && line[i] != ':') ++i;
        std::string name(line.substr(s, i - s));
        if (name.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          return bad("bad label");
        }
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            char e = line[++i];
            value += e == 'n' ? '\n' : e;
          } else {
            value += line[i];
          }
          ++i;
        }
        if (i >= line.size()) return bad("unterminated label value");
        ++i;
        labels.Set(name, value);
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return bad("missing '}'");
      ++i;
    }
    std::string rest(line.substr(i));
    std::size_t a = rest.find_first_not_of(' ');
    if (a == std::string::npos) return bad("missing value");
    std::size_t b = rest.find(' ', a);
    std::string value_text = rest.substr(a, b == std::string::npos ? std::string::npos : b - a);
    double v;
    if (!ParseTestNumber(value_text, &v)) return bad("bad value \"" + value_text + "\"");
    TimestampMs ts = default_ts;
    if (b != std::string::npos) {
      std::string ts_text = rest.substr(b + 1);
      ts_text.erase(0, ts_text.find_first_not_of(' '));
      ts_text.erase(ts_text.find_last_not_of(' ') + 1);
      if (!ts_text.empty()) {
        char* end = nullptr;
        double secs = std::strtod(ts_text.c_str(), &end);
        if (end != ts_text.c_str() + ts_text.size()) return bad("bad timestamp");
        ts = static_cast<TimestampMs>(secs * 1000);
      }
    }
    out->Add(labels, ts, v);
  }
  return Status::Ok();
}

}  // namespace vigil::promql
