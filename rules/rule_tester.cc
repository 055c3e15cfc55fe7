#include "rules/rule_tester.h"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>

#include "agent/base/duration.h"
#include "rules/appender.h"
#include "rules/group.h"
#include "rules/promql/memory_storage.h"
#include "rules/promql/parser.h"
#include "rules/promql/series_notation.h"
#include "rules/yaml_reader.h"

namespace vigil::rules {
namespace {

// An exp_samples value as promtool's YAML library (yaml.v2, YAML 1.1) reads a float: `.inf`,
// `-.inf`, `.nan` in their three spellings, integers in Go's base-0 forms (0x1F, 0o17, 0b101,
// 017 octal), underscores between digits; and, beyond promtool, PromQL's Inf and NaN.
bool ParseYamlFloat(std::string text, double* out) {
  static const std::pair<const char*, double> kSpecial[] = {
      {".inf", INFINITY},   {".Inf", INFINITY},  {".INF", INFINITY},   {"+.inf", INFINITY},
      {"+.Inf", INFINITY},  {"+.INF", INFINITY}, {"-.inf", -INFINITY}, {"-.Inf", -INFINITY},
      {"-.INF", -INFINITY}, {".nan", NAN},       {".NaN", NAN},        {".NAN", NAN}};
  for (const auto& [spelling, v] : kSpecial) {
    if (text == spelling) {
      *out = v;
      return true;
    }
  }
  std::string plain;
  for (char c : text) {
    if (c != '_') plain += c;
  }
  std::string_view digits = plain;
  bool neg = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' &&
      std::isalpha(static_cast<unsigned char>(digits[1]))) {
    const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[1])));
    base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    digits.remove_prefix(2);
  } else if (digits.size() > 1 && digits[0] == '0' &&
             digits.find_first_not_of("01234567") == std::string_view::npos) {
    base = 8;
    digits.remove_prefix(1);
  }
  if (base != 10) {
    std::uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (base == 0 || ec != std::errc() || ptr != digits.data() + digits.size()) return false;
    *out = neg ? -static_cast<double>(v) : static_cast<double>(v);
    return true;
  }
  return promql::ParseTestNumber(plain, out);
}

// Go's time.Duration String for whole milliseconds: "0s", "1m0s", "1h30m0s", "1.5s".
std::string GoDuration(std::int64_t ms) {
  if (ms == 0) return "0s";
  std::string sign = ms < 0 ? "-" : "";
  if (ms < 0) ms = -ms;
  std::int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, frac = ms % 1000;
  if (ms < 1000) return sign + std::to_string(ms) + "ms";
  std::string secs = std::to_string(s);
  if (frac) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "%03d", static_cast<int>(frac));
    std::string f = buf;
    while (!f.empty() && f.back() == '0') f.pop_back();
    secs += "." + f;
  }
  std::string out = sign;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  return out + secs + "s";
}

// strconv.FormatFloat(v, 'E', -1, 64).
std::string GoFloatE(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  for (auto& c : s) c = c == 'e' ? 'E' : c;
  return s;
}

std::string Indent(const std::string& s, const std::string& prefix) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

struct LabelsAndAnnotations {
  Labels labels;
  Labels annotations;
  bool operator<(const LabelsAndAnnotations& o) const {
    if (labels != o.labels) return labels < o.labels;
    return annotations < o.annotations;
  }
  bool operator==(const LabelsAndAnnotations& o) const = default;
};

std::string ListString(const std::vector<LabelsAndAnnotations>& la) {
  if (la.empty()) return "[]";
  std::string s;
  for (std::size_t i = 0; i < la.size(); ++i) {
    s += (i == 0 ? "[\n" : ",\n") + std::to_string(i) + ":" +
         Indent("\nLabels:" + la[i].labels.ToString() +
                    "\nAnnotations:" + la[i].annotations.ToString(),
                "  ");
  }
  return s + "\n]";
}

class StorageAppender final : public Appender {
 public:
  explicit StorageAppender(promql::MemoryStorage* s) : s_(s) {}
  void Append(const Labels& labels, TimestampMs t, double v) override { s_->Add(labels, t, v); }

 private:
  promql::MemoryStorage* s_;
};

class FileRunner : private YamlReader {
 public:
  FileRunner(std::string path, const promql::EngineOptions& opts)
      : YamlReader(path), path_(std::move(path)), engine_(opts) {}

  RuleTestFileResult Run() {
    RuleTestFileResult r;
    r.file = path_;
    Status s = Load();
    if (!s.ok()) {
      r.errors.push_back(s.message());
      return r;
    }
    for (const auto& tg : root_["tests"]) {
      auto errs = RunGroup(tg);
      r.errors.insert(r.errors.end(), errs.begin(), errs.end());
    }
    r.passed = r.errors.empty();
    return r;
  }

 private:
  Status Load() {
    try {
      root_ = YAML::LoadFile(path_);
      Status s =
          CheckKeys(root_, {"rule_files", "evaluation_interval", "group_eval_order", "tests"},
                    "unit test file");
      if (!s.ok()) return s;
      if (root_["evaluation_interval"]) {
        auto d = DurationMs(root_["evaluation_interval"]);
        if (!d.ok()) return d.status();
        eval_interval_ = *d;
      }
      // As promtool: subqueries without a step step by the file's evaluation_interval.
      engine_.set_subquery_step_ms(eval_interval_);
      for (const auto& g : root_["group_eval_order"]) group_order_.push_back(g.as<std::string>());
      for (const auto& tg : root_["tests"]) {
        s = CheckKeys(tg,
                      {"interval", "input_series", "alert_rule_test", "promql_expr_test",
                       "external_labels", "external_url", "name"},
                      "test group");
        if (!s.ok()) return s;
        for (const auto& in : tg["input_series"]) {
          s = CheckKeys(in, {"series", "values"}, "input series");
          if (!s.ok()) return s;
        }
        for (const auto& at : tg["alert_rule_test"]) {
          s = CheckKeys(at, {"eval_time", "alertname", "exp_alerts"}, "alert test");
          if (!s.ok()) return s;
          for (const auto& ea : at["exp_alerts"]) {
            s = CheckKeys(ea, {"exp_labels", "exp_annotations"}, "expected alert");
            if (!s.ok()) return s;
          }
        }
        for (const auto& pt : tg["promql_expr_test"]) {
          s = CheckKeys(pt, {"expr", "eval_time", "exp_samples"}, "promql test");
          if (!s.ok()) return s;
          for (const auto& es : pt["exp_samples"]) {
            s = CheckKeys(es, {"labels", "value"}, "expected sample");
            if (!s.ok()) return s;
          }
        }
      }
    } catch (const YAML::Exception& e) {
      return Err(e);
    }
    std::filesystem::path dir = std::filesystem::path(path_).parent_path();
    for (const auto& rf : root_["rule_files"]) {
      std::string pattern = rf.as<std::string>();
      if (!std::filesystem::path(pattern).is_absolute()) pattern = (dir / pattern).string();
      glob_t g{};
      if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) rule_files_.push_back(g.gl_pathv[i]);
      }
      globfree(&g);
    }
    for (const auto& f : rule_files_) {
      auto rf = LoadRuleFile(f);
      if (!rf.ok()) return rf.status();
      parsed_files_.push_back(std::move(*rf));
    }
    return Status::Ok();
  }

  std::vector<std::string> RunGroup(const YAML::Node& tg) {
    std::vector<std::string> errs;
    std::string test_name = tg["name"] ? tg["name"].as<std::string>() : "";
    GroupOptions gopts;
    gopts.default_interval_ms = eval_interval_;
    if (tg["external_labels"]) {
      for (const auto& kv : tg["external_labels"]) {
        gopts.external_labels.Set(kv.first.as<std::string>(), kv.second.as<std::string>());
      }
    }
    if (tg["external_url"]) gopts.external_url = tg["external_url"].as<std::string>();
    std::int64_t interval = eval_interval_;
    if (tg["interval"]) {
      auto d = DurationMs(tg["interval"]);
      if (!d.ok()) return {d.status().message()};
      interval = *d;
    }
    promql::MemoryStorage storage;
    // Like promtool's lazy loader, input samples become visible only up to each evaluation
    // time; samples after the last evaluation step are never loaded.
    struct PendingSample {
      Labels labels;
      TimestampMs t;
      double v;
    };
    std::vector<PendingSample> pending;
    for (const auto& in : tg["input_series"]) {
      auto labels = promql::ParseSeriesLabels(in["series"].as<std::string>());
      if (!labels.ok()) return {labels.status().message()};
      auto values = promql::ExpandSeriesValues(in["values"] ? in["values"].as<std::string>() : "");
      if (!values.ok()) return {values.status().message()};
      for (std::size_t i = 0; i < values->size(); ++i) {
        if ((*values)[i]) {
          pending.push_back({*labels, static_cast<TimestampMs>(i) * interval, *(*values)[i]});
        }
      }
    }
    std::vector<std::unique_ptr<Group>> groups;
    for (const auto& f : parsed_files_) {
      auto gs = Group::FromFile(f, gopts);
      if (!gs.ok()) return {gs.status().message()};
      for (auto& g : *gs) groups.push_back(std::move(g));
    }
    if (!group_order_.empty()) {
      std::map<std::string, std::size_t> rank;
      for (std::size_t i = 0; i < group_order_.size(); ++i) rank[group_order_[i]] = i;
      std::stable_sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) {
        auto ra = rank.count(a->name()) ? rank[a->name()] : group_order_.size();
        auto rb = rank.count(b->name()) ? rank[b->name()] : group_order_.size();
        return ra < rb;
      });
    }
    struct AlertTest {
      std::int64_t eval_time;
      std::string alertname;
      std::string eval_time_text;
      std::vector<LabelsAndAnnotations> exp;
    };
    std::vector<AlertTest> alert_tests;
    std::int64_t max_eval = 0;
    for (const auto& at : tg["alert_rule_test"]) {
      AlertTest t;
      auto d = DurationMs(at["eval_time"]);
      if (!d.ok()) return {d.status().message()};
      t.eval_time = *d;
      t.eval_time_text = FormatDuration(Duration(*d));
      t.alertname = at["alertname"].as<std::string>();
      for (const auto& ea : at["exp_alerts"]) {
        LabelsAndAnnotations la;
        for (const auto& kv : ea["exp_labels"]) {
          la.labels.Set(kv.first.as<std::string>(), kv.second.as<std::string>());
        }
        la.labels.Set("alertname", t.alertname);
        for (const auto& kv : ea["exp_annotations"]) {
          la.annotations.Set(kv.first.as<std::string>(), kv.second.as<std::string>());
        }
        t.exp.push_back(std::move(la));
      }
      max_eval = std::max(max_eval, t.eval_time);
      alert_tests.push_back(std::move(t));
    }
    for (const auto& pt : tg["promql_expr_test"]) {
      auto d = DurationMs(pt["eval_time"]);
      if (!d.ok()) return {d.status().message()};
      max_eval = std::max(max_eval, *d);
    }
    std::stable_sort(
        alert_tests.begin(), alert_tests.end(),
        [](const AlertTest& a, const AlertTest& b) { return a.eval_time < b.eval_time; });
    StorageAppender app(&storage);
    std::size_t curr = 0;
    std::stable_sort(pending.begin(), pending.end(),
                     [](const PendingSample& a, const PendingSample& b) { return a.t < b.t; });
    std::size_t loaded = 0;
    for (std::int64_t ts = 0; ts <= max_eval; ts += eval_interval_) {
      while (loaded < pending.size() && pending[loaded].t <= ts) {
        storage.Add(pending[loaded].labels, pending[loaded].t, pending[loaded].v);
        ++loaded;
      }
      std::vector<std::string> eval_errs;
      for (auto& g : groups) {
        g->Eval(ts, storage, engine_, app);
        for (const auto& r : g->rules()) {
          if (r->health() == RuleHealth::kBad) {
            eval_errs.push_back("    rule: " + r->name() + ", time: " + GoDuration(ts) +
                                ", err: " + r->last_error());
          }
        }
      }
      if (!eval_errs.empty()) {
        errs.insert(errs.end(), eval_errs.begin(), eval_errs.end());
        return errs;
      }
      while (curr < alert_tests.size() && ts <= alert_tests[curr].eval_time &&
             alert_tests[curr].eval_time < ts + eval_interval_) {
        const AlertTest& t = alert_tests[curr];
        std::vector<LabelsAndAnnotations> got;
        for (const auto& g : groups) {
          for (const auto& r : g->rules()) {
            auto* ar = dynamic_cast<const AlertingRule*>(r.get());
            if (!ar || ar->name() != t.alertname) continue;
            for (const auto& a : ar->ActiveAlerts()) {
              if (a.state == AlertState::kFiring) got.push_back({a.labels, a.annotations});
            }
          }
        }
        std::vector<LabelsAndAnnotations> exp = t.exp;
        std::sort(got.begin(), got.end());
        std::sort(exp.begin(), exp.end());
        if (exp != got) {
          std::string name = test_name.empty() ? "" : "    name: " + test_name + ",\n";
          errs.push_back(name + "    alertname: " + t.alertname + ", time: " + t.eval_time_text +
                         ", \n        exp:" + Indent(ListString(exp), "            ") +
                         ", \n        got:" + Indent(ListString(got), "            "));
        }
        ++curr;
      }
    }
    for (const auto& pt : tg["promql_expr_test"]) {
      std::string expr = pt["expr"].as<std::string>();
      std::int64_t at = *DurationMs(pt["eval_time"]);
      std::string where =
          "    expr: " + promql::QuoteString(expr) + ", time: " + FormatDuration(Duration(at));
      auto parsed = promql::ParseExpr(expr);
      Result<promql::Vector> got =
          parsed.ok() ? Result<promql::Vector>(Status::Internal("")) : parsed.status();
      if (parsed.ok()) {
        EvalContext ctx{storage, engine_, gopts.external_labels, gopts.external_url, 0};
        got = QueryVector(**parsed, at, ctx);
      }
      if (!got.ok()) {
        errs.push_back(where + ", err: " + got.status().message());
        continue;
      }
      std::vector<std::pair<Labels, double>> exp, gots;
      bool bad = false;
      for (const auto& es : pt["exp_samples"]) {
        std::string ltext = es["labels"] ? es["labels"].as<std::string>() : "";
        auto l = ltext == "{}" ? Result<Labels>(Labels{}) : promql::ParseSeriesLabels(ltext);
        if (!l.ok()) {
          errs.push_back(where + ", err: labels " + promql::QuoteString(ltext) + ": " +
                         l.status().message());
          bad = true;
          break;
        }
        double v = 0;
        if (es["value"] && !ParseYamlFloat(es["value"].as<std::string>(), &v)) {
          errs.push_back(where + ", err: bad value " + es["value"].as<std::string>());
          bad = true;
          break;
        }
        exp.emplace_back(std::move(*l), v);
      }
      if (bad) continue;
      for (const auto& s : *got) gots.emplace_back(s.metric, s.v);
      auto by_labels = [](const auto& a, const auto& b) { return a.first < b.first; };
      std::sort(exp.begin(), exp.end(), by_labels);
      std::sort(gots.begin(), gots.end(), by_labels);
      bool same = exp.size() == gots.size();
      for (std::size_t i = 0; same && i < exp.size(); ++i) {
        same = exp[i].first == gots[i].first && exp[i].second == gots[i].second;
      }
      if (!same) {
        auto str = [](const std::vector<std::pair<Labels, double>>& v) {
          if (v.empty()) return std::string("nil");
          std::string s;
          for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) s += ", ";
            s += v[i].first.ToString() + " " + GoFloatE(v[i].second);
          }
          return s;
        };
        errs.push_back(where + ",\n        exp: " + str(exp) + "\n        got: " + str(gots));
      }
    }
    return errs;
  }

  std::string path_;
  promql::Engine engine_;
  YAML::Node root_;
  std::int64_t eval_interval_ = 60000;
  std::vector<std::string> group_order_;
  std::vector<std::string> rule_files_;
  std::vector<RuleFileConfig> parsed_files_;
};

}  // namespace

RuleTestFileResult RunRuleTestFile(const std::string& path,
                                   const promql::EngineOptions& engine_options) {
  try {
    return FileRunner(path, engine_options).Run();
  } catch (const YAML::Exception& e) {
    RuleTestFileResult r;
    r.file = path;
    r.errors.push_back(path + ": " + e.what());
    return r;
  }
}

int RunRuleTests(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  bool failed = false;
  for (const auto& f : files) {
    out << "Unit Testing:  " << f << "\n" << std::flush;
    RuleTestFileResult r = RunRuleTestFile(f);
    if (r.passed) {
      out << "  SUCCESS\n";
    } else {
      failed = true;
      err << "  FAILED:\n" << std::flush;
      for (const auto& e : r.errors) {
        err << e << "\n" << std::flush;
        out << "\n" << std::flush;
      }
    }
    out << "\n" << std::flush;
  }
  return failed ? 1 : 0;
}

}  // namespace vigil::rules
