#include "rules/yaml_reader.h"

#include "agent/base/duration.h"

namespace vigil::rules {

Status YamlReader::At(const YAML::Mark& m, const std::string& msg) const {
  return Status::InvalidArgument(path_ + ":" + std::to_string(m.line + 1) + ":" +
                                 std::to_string(m.column + 1) + ": " + msg);
}

Status YamlReader::CheckKeys(const YAML::Node& map, const std::set<std::string>& allowed,
                             const std::string& what) const {
  if (!map.IsMap()) return Err(map, what + " must be a mapping");
  for (const auto& kv : map) {
    std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) return Err(kv.first, "field " + key + " not found in " + what);
  }
  return Status::Ok();
}

Result<std::int64_t> YamlReader::DurationMs(const YAML::Node& n, const std::string& what) const {
  if (!n.IsScalar()) return Err(n, (what.empty() ? "duration" : what) + " must be a string");
  Result<Duration> d = ParseDuration(n.as<std::string>());
  if (!d.ok()) return Err(n, (what.empty() ? "" : what + ": ") + d.status().message());
  return d->count();
}

}  // namespace vigil::rules
