#include "tests/unit/rules/promql_script.h"

#include <cmath>
#include <map>
#include <sstream>

#include "agent/base/duration.h"
#include "rules/promql/engine.h"
#include "rules/promql/memory_storage.h"
#include "rules/promql/parser.h"
#include "rules/promql/series_notation.h"

namespace vigil::promql::testing {
namespace {

struct Line {
  int number;
  std::string text;
  bool indented;
};

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Splits "metric{a="b c"} rest" into the series description and the rest.
void SplitSeries(const std::string& s, std::string* desc, std::string* rest) {
  std::size_t i = 0;
  bool in_braces = false, in_quote = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (in_quote) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_quote = false;
      }
      continue;
    }
    if (c == '"') in_quote = true;
    if (c == '{') in_braces = true;
    if (c == '}') {
      ++i;
      break;
    }
    if (!in_braces && (c == ' ' || c == '\t')) break;
  }
  *desc = s.substr(0, i);
  *rest = Trim(s.substr(i));
}

bool ParseTime(const std::string& s, TimestampMs* out) {
  auto d = ParseDuration(s);
  if (d.ok()) {
    *out = d->count();
    return true;
  }
  char* end = nullptr;
  double secs = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || s.empty()) return false;
  *out = static_cast<TimestampMs>(std::llround(secs * 1000));
  return true;
}

Result<Labels> ParseLabelsDesc(const std::string& desc) {
  if (desc == "{}") return Labels{};
  return ParseSeriesLabels(desc);
}

bool AlmostEqual(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  double diff = std::fabs(a - b);
  return diff <= 1e-9 || diff <= 1e-6 * std::max(std::fabs(a), std::fabs(b));
}

class Runner {
 public:
  explicit Runner(std::string filename) : filename_(std::move(filename)) {}

  ScriptResult Run(const std::string& text) {
    std::vector<Line> lines;
    std::istringstream in(text);
    std::string raw;
    int n = 0;
    while (std::getline(in, raw)) {
      ++n;
      std::string t = Trim(raw);
      if (t.empty() || t[0] == '#') continue;
      lines.push_back({n, t, raw[0] == ' ' || raw[0] == '\t'});
    }
    for (std::size_t i = 0; i < lines.size();) {
      const Line& cmd = lines[i++];
      std::vector<Line> body;
      while (i < lines.size() && lines[i].indented) body.push_back(lines[i++]);
      RunCommand(cmd, body);
    }
    return result_;
  }

 private:
  void Fail(int line, const std::string& msg) {
    result_.failures.push_back(filename_ + ":" + std::to_string(line) + ": " + msg);
  }

  void RunCommand(const Line& cmd, const std::vector<Line>& body) {
    std::istringstream words(cmd.text);
    std::string verb;
    words >> verb;
    if (cmd.indented) return Fail(cmd.number, "unexpected indented line");
    if (verb == "clear") {
      storage_.Clear();
      return;
    }
    if (verb == "load") return Load(cmd, body);
    if (verb == "eval" || verb == "eval_fail" || verb == "eval_ordered") {
      return Eval(cmd, verb, body);
    }
    Fail(cmd.number, "unknown command: " + verb);
  }

  void Load(const Line& cmd, const std::vector<Line>& body) {
    std::istringstream words(cmd.text);
    std::string verb, interval;
    words >> verb >> interval;
    auto step = ParseDuration(interval);
    if (!step.ok()) return Fail(cmd.number, step.status().message());
    for (const auto& l : body) {
      std::string desc, rest;
      SplitSeries(l.text, &desc, &rest);
      auto labels = ParseLabelsDesc(desc);
      if (!labels.ok()) return Fail(l.number, labels.status().message());
      auto values = ExpandSeriesValues(rest);
      if (!values.ok()) return Fail(l.number, values.status().message());
      for (std::size_t i = 0; i < values->size(); ++i) {
        if ((*values)[i]) {
          storage_.Add(*labels, static_cast<TimestampMs>(i) * step->count(), *(*values)[i]);
        }
      }
    }
  }

  void Eval(const Line& cmd, const std::string& verb, const std::vector<Line>& body) {
    ++result_.evals;
    std::istringstream words(cmd.text);
    std::string w, kind;
    words >> w >> kind;
    TimestampMs start = 0, end = 0;
    std::int64_t step = 0;
    if (kind == "instant") {
      std::string at, t;
      words >> at >> t;
      if (at != "at" || !ParseTime(t, &start)) return Fail(cmd.number, "bad instant eval line");
      end = start;
    } else if (kind == "range") {
      std::string from, s, to, e, stepw, st;
      words >> from >> s >> to >> e >> stepw >> st;
      TimestampMs step_t = 0;
      if (from != "from" || to != "to" || stepw != "step" || !ParseTime(s, &start) ||
          !ParseTime(e, &end) || !ParseTime(st, &step_t)) {
        return Fail(cmd.number, "bad range eval line");
      }
      step = step_t;
    } else {
      return Fail(cmd.number, "expected 'instant' or 'range'");
    }
    std::string expr;
    std::getline(words, expr);
    expr = Trim(expr);
    Result<Value> res = kind == "instant" ? engine_.InstantQuery(storage_, expr, start)
                                          : engine_.RangeQuery(storage_, expr, start, end, step);
    std::string where = "eval of `" + expr + "`: ";
    if (verb == "eval_fail") {
      if (res.ok()) return Fail(cmd.number, where + "expected an error, got a result");
      for (const auto& l : body) {
        if (l.text.rfind("error ", 0) == 0) {
          std::string want = Trim(l.text.substr(6));
          if (res.status().message().find(want) == std::string::npos) {
            Fail(l.number, where + "error \"" + res.status().message() + "\" does not contain \"" +
                               want + "\"");
          }
        }
      }
      return;
    }
    if (!res.ok()) return Fail(cmd.number, where + "unexpected error: " + res.status().message());
    if (kind == "range") return CheckRange(cmd, where, *res, body, start, step);
    CheckInstant(cmd, where, *res, body, verb == "eval_ordered");
  }

  void CheckInstant(const Line& cmd, const std::string& where, const Value& v,
                    const std::vector<Line>& body, bool ordered) {
    if (v.type == ValueType::kScalar || v.type == ValueType::kString) {
      if (body.size() != 1) return Fail(cmd.number, where + "expected one scalar line");
      if (v.type == ValueType::kString) {
        if (body[0].text != QuoteString(v.str)) {
          Fail(body[0].number, where + "got string " + QuoteString(v.str));
        }
        return;
      }
      double want;
      if (!ParseTestNumber(body[0].text, &want)) return Fail(body[0].number, "bad number");
      if (!AlmostEqual(want, v.scalar)) {
        Fail(body[0].number,
             where + "expected scalar " + body[0].text + ", got " + FormatValue(v.scalar));
      }
      return;
    }
    if (v.type != ValueType::kVector) return Fail(cmd.number, where + "result is not a vector");
    std::map<Labels, double> got;
    std::vector<Labels> got_order;
    for (const auto& s : v.vector) {
      got[s.metric] = s.v;
      got_order.push_back(s.metric);
    }
    std::size_t idx = 0;
    for (const auto& l : body) {
      std::string desc, rest;
      SplitSeries(l.text, &desc, &rest);
      auto labels = ParseLabelsDesc(desc);
      if (!labels.ok()) return Fail(l.number, labels.status().message());
      double want;
      if (!ParseTestNumber(rest, &want)) return Fail(l.number, "bad value: " + rest);
      auto it = got.find(*labels);
      if (it == got.end()) {
        Fail(l.number,
             where + "missing series " + labels->ToString() + " (got " + Describe(v.vector) + ")");
        continue;
      }
      if (!AlmostEqual(want, it->second)) {
        Fail(l.number, where + "series " + labels->ToString() + ": expected " + rest + ", got " +
                           FormatValue(it->second));
      }
      if (ordered && (idx >= got_order.size() || got_order[idx] != *labels)) {
        Fail(l.number, where + "series " + labels->ToString() + " out of order (got " +
                           Describe(v.vector) + ")");
      }
      ++idx;
      got.erase(it);
    }
    for (const auto& [labels, val] : got) {
      Fail(cmd.number, where + "unexpected series " + labels.ToString() + " " + FormatValue(val));
    }
  }

  void CheckRange(const Line& cmd, const std::string& where, const Value& v,
                  const std::vector<Line>& body, TimestampMs start, std::int64_t step) {
    std::map<Labels, std::vector<Point>> got;
    for (const auto& s : v.matrix) got[s.metric] = s.points;
    for (const auto& l : body) {
      std::string desc, rest;
      SplitSeries(l.text, &desc, &rest);
      auto labels = ParseLabelsDesc(desc);
      if (!labels.ok()) return Fail(l.number, labels.status().message());
      auto values = ExpandSeriesValues(rest);
      if (!values.ok()) return Fail(l.number, values.status().message());
      auto it = got.find(*labels);
      if (it == got.end()) {
        Fail(l.number, where + "missing series " + labels->ToString());
        continue;
      }
      std::vector<Point> want;
      for (std::size_t i = 0; i < values->size(); ++i) {
        if ((*values)[i])
          want.push_back(Point{start + static_cast<TimestampMs>(i) * step, *(*values)[i]});
      }
      bool same = want.size() == it->second.size();
      for (std::size_t i = 0; same && i < want.size(); ++i) {
        same = want[i].t == it->second[i].t && AlmostEqual(want[i].v, it->second[i].v);
      }
      if (!same) {
        std::string g;
        for (const auto& p : it->second)
          g += " " + std::to_string(p.t / 1000) + "s:" + FormatValue(p.v);
        Fail(l.number, where + "series " + labels->ToString() + " differs, got" + g);
      }
      got.erase(it);
    }
    for (const auto& [labels, pts] : got) {
      Fail(cmd.number, where + "unexpected series " + labels.ToString());
    }
  }

  static std::string Describe(const Vector& v) {
    std::string out;
    for (const auto& s : v) out += s.metric.ToString() + "=" + FormatValue(s.v) + " ";
    return out.empty() ? "nothing" : out;
  }

  std::string filename_;
  MemoryStorage storage_;
  Engine engine_;
  ScriptResult result_;
};

}  // namespace

ScriptResult RunPromqlScript(const std::string& text, const std::string& filename) {
  Runner r(filename);
  return r.Run(text);
}

}  // namespace vigil::promql::testing
