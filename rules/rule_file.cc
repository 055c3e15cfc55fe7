#include "rules/rule_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "agent/base/duration.h"
#include "agent/base/file.h"
#include "agent/base/labels.h"
#include "rules/promql/parser.h"
#include "rules/template.h"
#include "rules/yaml_reader.h"

namespace vigil::rules {
namespace {

// 65,000 rules are ~20 MB of YAML.
constexpr std::size_t kMaxRuleFileBytes = std::size_t{64} << 20;

// yaml-cpp reports errors by exception; they stop in this file.
class Loader : private YamlReader {
 public:
  explicit Loader(std::string path) : YamlReader(path), path_(std::move(path)) {}

  Result<std::string> Scalar(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) return Err(n, what + " must be a string");
    return n.as<std::string>();
  }

  Result<std::vector<std::pair<std::string, std::string>>> StringMap(
      const YAML::Node& n, const std::string& what) const {
    std::vector<std::pair<std::string, std::string>> out;
    if (n.IsNull()) return out;
    if (!n.IsMap()) return Err(n, what + " must be a mapping");
    for (const auto& kv : n) {
      if (!kv.second.IsScalar() && !kv.second.IsNull()) {
        return Err(kv.second, what + " values must be strings");
      }
      out.emplace_back(kv.first.as<std::string>(),
                       kv.second.IsNull() ? "" : kv.second.as<std::string>());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  Result<RuleConfig> ParseRule(const YAML::Node& n, const std::string& group, int index) const {
    Status s = CheckKeys(
        n, {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}, "rule");
    if (!s.ok()) return s;
    RuleConfig r;
    r.line = n.Mark().line + 1;
    r.column = n.Mark().column + 1;
    auto ctx = [&](const std::string& msg) {
      return "group \"" + group + "\", rule " + std::to_string(index + 1) + ": " + msg;
    };
    for (const char* key : {"record", "alert", "expr"}) {
      if (!n[key]) continue;
      auto v = Scalar(n[key], key);
      if (!v.ok()) return v.status();
      (std::string(key) == "record"  ? r.record
       : std::string(key) == "alert" ? r.alert
                                     : r.expr) = *v;
    }
    if (!r.record.empty() && !r.alert.empty()) {
      return Err(n, ctx("only one of 'record' and 'alert' must be set"));
    }
    if (r.record.empty() && r.alert.empty()) {
      return Err(n, ctx("one of 'record' or 'alert' must be set"));
    }
    if (r.expr.empty()) return Err(n, ctx("field 'expr' must be set in rule"));
    auto parsed = promql::ParseExpr(r.expr);
    if (!parsed.ok()) {
      return Err(n["expr"], ctx("could not parse expression: " + parsed.status().message()));
    }
    if (n["for"]) {
      auto d = DurationMs(n["for"], "for");
      if (!d.ok()) return d.status();
      r.for_ms = *d;
    }
    if (n["keep_firing_for"]) {
      auto d = DurationMs(n["keep_firing_for"], "keep_firing_for");
      if (!d.ok()) return d.status();
      r.keep_firing_for_ms = *d;
    }
    if (n["labels"]) {
      auto m = StringMap(n["labels"], "labels");
      if (!m.ok()) return m.status();
      r.labels = std::move(*m);
    }
    if (n["annotations"]) {
      auto m = StringMap(n["annotations"], "annotations");
      if (!m.ok()) return m.status();
      r.annotations = std::move(*m);
    }
    if (!r.record.empty()) {
      if (!r.annotations.empty()) {
        return Err(n["annotations"], ctx("invalid field 'annotations' in recording rule"));
      }
      if (r.for_ms != 0) return Err(n["for"], ctx("invalid field 'for' in recording rule"));
      if (r.keep_firing_for_ms != 0) {
        return Err(n["keep_firing_for"], ctx("invalid field 'keep_firing_for' in recording rule"));
      }
      if (!IsValidMetricName(r.record)) {
        return Err(n["record"], ctx("invalid recording rule name: " + r.record));
      }
    }
    for (const auto& [k, v] : r.labels) {
      if (!IsValidLabelName(k) || k == "__name__") {
        return Err(n["labels"], ctx("invalid label name: " + k));
      }
    }
    for (const auto& [k, v] : r.annotations) {
      if (!IsValidLabelName(k)) return Err(n["annotations"], ctx("invalid annotation name: " + k));
    }
    if (!r.alert.empty()) {
      for (const auto* list : {&r.labels, &r.annotations}) {
        for (const auto& [k, v] : *list) {
          auto t = Template::Parse("__alert_" + r.alert, v);
          if (!t.ok()) return Err(n, ctx(t.status().message()));
        }
      }
    }
    return r;
  }

  Result<RuleFileConfig> Parse(const std::string& content) const {
    YAML::Node root;
    try {
      root = YAML::Load(content);
    } catch (const YAML::Exception& e) {
      return Err(e);
    }
    RuleFileConfig out;
    out.path = path_;
    if (root.IsNull()) return out;
    try {
      Status s = CheckKeys(root, {"groups"}, "rule file");
      if (!s.ok()) return s;
      const YAML::Node groups = root["groups"];
      if (!groups || groups.IsNull()) return out;
      if (!groups.IsSequence()) return Err(groups, "groups must be a list");
      std::set<std::string> names;
      for (const auto& g : groups) {
        s = CheckKeys(g, {"name", "interval", "limit", "rules"}, "rule group");
        if (!s.ok()) return s;
        RuleGroupConfig gc;
        gc.line = g.Mark().line + 1;
        gc.column = g.Mark().column + 1;
        if (g["name"]) {
          auto name = Scalar(g["name"], "name");
          if (!name.ok()) return name.status();
          gc.name = *name;
        }
        if (gc.name.empty()) return Err(g, "Groupname must not be empty");
        if (!names.insert(gc.name).second) {
          return Err(g["name"], "groupname: \"" + gc.name + "\" is repeated in the same file");
        }
        if (g["interval"]) {
          auto d = DurationMs(g["interval"], "interval");
          if (!d.ok()) return d.status();
          gc.interval_ms = *d;
        }
        if (g["limit"]) {
          try {
            gc.limit = g["limit"].as<int>();
          } catch (const YAML::Exception&) {
            return Err(g["limit"], "limit must be an integer");
          }
        }
        const YAML::Node rules = g["rules"];
        if (rules && !rules.IsNull()) {
          if (!rules.IsSequence()) return Err(rules, "rules must be a list");
          int i = 0;
          for (const auto& r : rules) {
            auto rc = ParseRule(r, gc.name, i++);
            if (!rc.ok()) return rc.status();
            gc.rules.push_back(std::move(*rc));
          }
        }
        out.groups.push_back(std::move(gc));
      }
    } catch (const YAML::Exception& e) {
      return Err(e);
    }
    return out;
  }

 private:
  std::string path_;
};

}  // namespace

Result<RuleFileConfig> ParseRuleFile(const std::string& content, const std::string& path) {
  return Loader(path).Parse(content);
}

Result<RuleFileConfig> LoadRuleFile(const std::string& path) {
  Result<std::string> text = ReadFileBounded(path, kMaxRuleFileBytes);
  if (text.status().code() == Status::Code::kNotFound) {
    return Status::NotFound("open failed: " + path);
  }
  if (!text.ok()) return text.status().WithContext(path);
  return ParseRuleFile(*text, path);
}

}  // namespace vigil::rules
