#include "agent/remote/relabel.h"

#include <re2/re2.h>

namespace vigil::remote {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Expands $1, ${1}, $name and ${name} in `templ` from the submatches of the last match, as
// Go's regexp.Expand does: an unknown group or a malformed reference expands to nothing.
std::string Expand(const re2::RE2& re, std::string_view templ,
                   const std::vector<re2::StringPiece>& groups) {
  std::string out;
  out.reserve(templ.size());
  const auto& named = re.NamedCapturingGroups();
  for (std::size_t i = 0; i < templ.size(); ++i) {
    char c = templ[i];
    if (c != '$' || i + 1 >= templ.size()) {
      out += c;
      continue;
    }
    if (templ[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string_view name;
    std::size_t end;
    if (templ[i + 1] == '{') {
      std::size_t close = templ.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += c;
        continue;
      }
      name = templ.substr(i + 2, close - i - 2);
      bool valid = !name.empty();
      for (char n : name) valid = valid && IsNameChar(n);
      if (!valid) {
        out += c;
        continue;
      }
      end = close;
    } else {
      std::size_t j = i + 1;
      while (j < templ.size() && IsNameChar(templ[j])) ++j;
      if (j == i + 1) {
        out += c;
        continue;
      }
      name = templ.substr(i + 1, j - i - 1);
      end = j - 1;
    }
    i = end;
    int index = -1;
    bool numeric = true;
    for (char n : name) numeric = numeric && n >= '0' && n <= '9';
    if (numeric) {
      if (name.size() < 10) index = std::stoi(std::string(name));
    } else if (auto it = named.find(std::string(name)); it != named.end()) {
      index = it->second;
    }
    if (index >= 0 && static_cast<std::size_t>(index) < groups.size() &&
        groups[static_cast<std::size_t>(index)].data() != nullptr) {
      out.append(groups[static_cast<std::size_t>(index)].data(),
                 groups[static_cast<std::size_t>(index)].size());
    }
  }
  return out;
}

}  // namespace

std::optional<RelabelAction> ParseRelabelAction(std::string_view name) {
  if (name == "replace") return RelabelAction::kReplace;
  if (name == "keep") return RelabelAction::kKeep;
  if (name == "drop") return RelabelAction::kDrop;
  if (name == "labeldrop") return RelabelAction::kLabelDrop;
  if (name == "labelkeep") return RelabelAction::kLabelKeep;
  return std::nullopt;
}

Result<RelabelConfig> RelabelConfig::Make(RelabelRule rule) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<re2::RE2>("^(?:" + rule.regex + ")$", options);
  if (!re->ok()) {
    return Status::InvalidArgument("invalid regex \"" + rule.regex + "\": " + re->error());
  }
  if (rule.action == RelabelAction::kReplace && rule.target_label.empty()) {
    return Status::InvalidArgument("action replace needs target_label");
  }
  if ((rule.action == RelabelAction::kLabelDrop || rule.action == RelabelAction::kLabelKeep) &&
      (!rule.source_labels.empty() || !rule.target_label.empty())) {
    return Status::InvalidArgument(
        "labeldrop and labelkeep take only regex (no source_labels or target_label)");
  }
  for (const std::string& l : rule.source_labels) {
    if (!IsValidLabelName(l)) return Status::InvalidArgument("invalid source label \"" + l + "\"");
  }
  RelabelConfig c;
  c.rule_ = std::move(rule);
  c.re_ = std::move(re);
  return c;
}

bool RelabelConfig::Apply(Labels& labels) const {
  const re2::RE2& re = *re_;
  switch (rule_.action) {
    case RelabelAction::kLabelDrop:
    case RelabelAction::kLabelKeep: {
      bool keep_matching = rule_.action == RelabelAction::kLabelKeep;
      std::vector<Label> kept;
      kept.reserve(labels.size());
      for (const Label& l : labels) {
        if (re2::RE2::FullMatch(l.name, re) == keep_matching) kept.push_back(l);
      }
      if (kept.size() != labels.size()) labels = Labels(std::move(kept));
      return true;
    }
    default:
      break;
  }
  std::string value;
  for (std::size_t i = 0; i < rule_.source_labels.size(); ++i) {
    if (i > 0) value += rule_.separator;
    value += labels.Get(rule_.source_labels[i]);
  }
  switch (rule_.action) {
    case RelabelAction::kKeep:
      return re2::RE2::FullMatch(value, re);
    case RelabelAction::kDrop:
      return !re2::RE2::FullMatch(value, re);
    case RelabelAction::kReplace: {
      std::vector<re2::StringPiece> groups(static_cast<std::size_t>(re.NumberOfCapturingGroups()) +
                                           1);
      if (!re.Match(value, 0, value.size(), re2::RE2::UNANCHORED, groups.data(),
                    static_cast<int>(groups.size()))) {
        return true;
      }
      std::string target = Expand(re, rule_.target_label, groups);
      if (!IsValidLabelName(target)) return true;
      std::string result = Expand(re, rule_.replacement, groups);
      labels.Set(target, result);  // an empty value removes the label
      return true;
    }
    default:
      return true;
  }
}

bool Relabel(const std::vector<RelabelConfig>& configs, Labels& labels) {
  for (const RelabelConfig& c : configs) {
    if (!c.Apply(labels)) return false;
  }
  return true;
}

}  // namespace vigil::remote
