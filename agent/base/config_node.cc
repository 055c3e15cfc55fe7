#include "agent/base/config_node.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "agent/base/duration.h"
#include "agent/base/file.h"

namespace vigil {
namespace {
// A password or token file.
constexpr std::size_t kMaxSecretFileBytes = std::size_t{64} << 10;
}  // namespace

void ConfigErrors::Add(int line, int column, const std::string& message) {
  errors_.push_back({{line, column}, message});
}

std::string ConfigErrors::ToString() const {
  auto sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [pos, message] : sorted) {
    if (!out.empty()) out += '\n';
    out += file_ + ":" + std::to_string(pos.first + 1) + ":" + std::to_string(pos.second + 1) +
           ": " + message;
  }
  return out;
}

Status ConfigErrors::ToStatus() const {
  return empty() ? Status::Ok() : Status::InvalidArgument(ToString());
}

Result<std::string> ExpandEnv(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
    } else if (text[i + 1] == '$') {
      out += '$';
      ++i;
    } else if (text[i + 1] == '{') {
      std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        return Status::InvalidArgument("unterminated ${ in \"" + std::string(text) + "\"");
      }
      std::string_view ref = text.substr(i + 2, close - i - 2);
      std::size_t dash = ref.find(":-");  // ${NAME:-default}: the default when unset or empty
      std::string name(ref.substr(0, dash));
      const char* value = std::getenv(name.c_str());
      if (dash != std::string_view::npos && (value == nullptr || *value == '\0')) {
        out += ref.substr(dash + 2);
      } else if (value == nullptr) {
        return Status::InvalidArgument("environment variable " + name + " is not set");
      } else {
        out += value;
      }
      i = close;
    } else {
      out += text[i];
    }
  }
  return out;
}

ConfigNode::ConfigNode(const YAML::Node& node, std::string path, ConfigErrors* errors)
    : node_(std::make_unique<YAML::Node>(node)),
      path_(std::move(path)),
      errors_(errors),
      used_(std::make_shared<std::set<std::string, std::less<>>>()) {}

ConfigNode::ConfigNode(const ConfigNode& o)
    : node_(std::make_unique<YAML::Node>(*o.node_)),
      path_(o.path_),
      errors_(o.errors_),
      used_(o.used_) {}

ConfigNode& ConfigNode::operator=(const ConfigNode& o) {
  if (this != &o) {
    node_ = std::make_unique<YAML::Node>(*o.node_);
    path_ = o.path_;
    errors_ = o.errors_;
    used_ = o.used_;
  }
  return *this;
}

ConfigNode::~ConfigNode() = default;

bool ConfigNode::IsNull() const { return !node_->IsDefined() || node_->IsNull(); }
bool ConfigNode::IsMap() const { return node_->IsMap(); }
bool ConfigNode::IsList() const { return node_->IsSequence(); }

void ConfigNode::Error(const std::string& message) const {
  YAML::Mark mark = node_->Mark();
  std::string prefix = path_.empty() ? "" : path_ + ": ";
  errors_->Add(std::max(mark.line, 0), std::max(mark.column, 0), prefix + message);
}

std::string ConfigNode::ChildPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool ConfigNode::Has(std::string_view key) const {
  return node_->IsMap() && (*node_)[std::string(key)].IsDefined();
}

std::optional<ConfigNode> ConfigNode::Child(std::string_view key) const {
  if (!node_->IsMap()) return std::nullopt;
  used_->insert(std::string(key));
  YAML::Node child = (*node_)[std::string(key)];
  if (!child.IsDefined()) return std::nullopt;
  return ConfigNode(child, ChildPath(key), errors_);
}

std::string ConfigNode::AsString() const {
  if (!node_->IsScalar()) {
    Error("want a string");
    return "";
  }
  Result<std::string> expanded = ExpandEnv(node_->Scalar());
  if (!expanded.ok()) {
    Error(expanded.status().message());
    return "";
  }
  return *expanded;
}

std::string ConfigNode::String(std::string_view key, std::string_view def) const {
  auto child = Child(key);
  if (!child || child->IsNull()) return std::string(def);
  return child->AsString();
}

std::string ConfigNode::RequiredString(std::string_view key) const {
  auto child = Child(key);
  if (!child || child->IsNull()) {
    Error("missing required key \"" + std::string(key) + "\"");
    return "";
  }
  std::string value = child->AsString();
  if (value.empty()) child->Error("must not be empty");
  return value;
}

bool ConfigNode::Bool(std::string_view key, bool def) const {
  auto child = Child(key);
  if (!child || child->IsNull()) return def;
  std::string v = child->AsString();
  if (v == "true") return true;
  if (v == "false") return false;
  child->Error("want true or false, got \"" + v + "\"");
  return def;
}

long long ConfigNode::Int(std::string_view key, long long def, long long min, long long max) const {
  auto child = Child(key);
  if (!child || child->IsNull()) return def;
  std::string v = child->AsString();
  long long n = 0;
  std::size_t used = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size()) {
    child->Error("want an integer, got \"" + v + "\"");
    return def;
  }
  if (n < min || n > max) {
    child->Error("must be between " + std::to_string(min) + " and " + std::to_string(max) +
                 ", got " + v);
    return def;
  }
  return n;
}

Duration ConfigNode::GetDuration(std::string_view key, Duration def) const {
  auto child = Child(key);
  if (!child || child->IsNull()) return def;
  Result<Duration> d = ParseDuration(child->AsString());
  if (!d.ok()) {
    child->Error("invalid duration \"" + child->AsString() + "\" (want e.g. 15s, 1m30s, 500ms)");
    return def;
  }
  return *d;
}

long long ConfigNode::Bytes(std::string_view key, long long def, long long min,
                            long long max) const {
  auto child = Child(key);
  if (!child || child->IsNull()) return def;
  std::string v = child->AsString();
  std::string_view text = v;
  long long n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string_view unit = text.substr(static_cast<std::size_t>(ptr - text.data()));
  long long scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  if (unit == "KB" || unit == "KiB") scale = 1LL << 10;
  if (unit == "MB" || unit == "MiB") scale = 1LL << 20;
  if (unit == "GB" || unit == "GiB") scale = 1LL << 30;
  if (ptr == text.data() || ec != std::errc() || n < 0 || scale == 0) {
    child->Error("invalid size \"" + v + "\" (want bytes, e.g. 1048576, 512KiB, 16MiB)");
    return def;
  }
  if (n > max / scale || n * scale < min) {
    child->Error("must be between " + std::to_string(min) + " and " + std::to_string(max) +
                 " bytes, got " + v);
    return def;
  }
  return n * scale;
}

std::vector<ConfigNode> ConfigNode::List(std::string_view key) const {
  std::vector<ConfigNode> out;
  auto child = Child(key);
  if (!child || child->IsNull()) return out;
  if (!child->node_->IsSequence()) {
    child->Error("want a list");
    return out;
  }
  for (std::size_t i = 0; i < child->node_->size(); ++i) {
    out.emplace_back((*child->node_)[i], child->path_ + "[" + std::to_string(i) + "]", errors_);
  }
  return out;
}

std::vector<std::string> ConfigNode::StringList(std::string_view key) const {
  std::vector<std::string> out;
  for (const ConfigNode& item : List(key)) out.push_back(item.AsString());
  return out;
}

Labels ConfigNode::LabelMap(std::string_view key) const {
  Labels labels;
  auto child = Child(key);
  if (!child || child->IsNull()) return labels;
  if (!child->node_->IsMap()) {
    child->Error("want a mapping of label names to values");
    return labels;
  }
  for (auto it = child->node_->begin(); it != child->node_->end(); ++it) {
    std::string name = it->first.as<std::string>();
    ConfigNode value(it->second, child->path_ + "." + name, errors_);
    Status valid = ValidateUserLabels(Labels{{name, "x"}});
    if (!valid.ok()) {
      ConfigNode(it->first, child->path_, errors_).Error(valid.message());
      continue;
    }
    labels.Set(name, value.AsString());
  }
  return labels;
}

std::string ConfigNode::Secret(std::string_view key, std::string_view file_key) const {
  bool inline_given = Has(key);
  bool file_given = Has(file_key);
  if (inline_given && file_given) {
    Error("give at most one of \"" + std::string(key) + "\" and \"" + std::string(file_key) + "\"");
    return "";
  }
  if (inline_given) return String(key);
  if (!file_given) return "";
  auto child = Child(file_key);
  std::string path = child->AsString();
  Result<std::string> read = ReadFileBounded(path, kMaxSecretFileBytes);
  if (!read.ok()) {
    child->Error("cannot read secret file \"" + path + "\": " + read.status().message());
    return "";
  }
  std::string secret = std::move(*read);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                             secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  return secret;
}

std::string ConfigNode::Regex(std::string_view key) const {
  auto child = Child(key);
  if (!child || child->IsNull()) return "";
  std::string pattern = child->AsString();
  RE2 re(pattern, RE2::Quiet);
  if (!re.ok()) child->Error("invalid regex \"" + pattern + "\": " + re.error());
  return pattern;
}

void ConfigNode::CheckUnknownKeys() const {
  if (!node_->IsMap()) return;
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    std::string key = it->first.Scalar();
    if (used_->count(key) == 0) {
      ConfigNode(it->first, path_, errors_).Error("unknown key \"" + key + "\"");
    }
  }
}

}  // namespace vigil
