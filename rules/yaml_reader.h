// YamlReader: what rule files (rule_file.cc) and rule test files (rule_tester.cc) read YAML
// with, in promtool's manner: the first error stops the load, and every message starts with
// "file:line:column: " (yaml-cpp's marks are 0-based; these are 1-based, as editors count).
// vigil's own config collects every error instead (agent/base/config_node.h). Stateless
// apart from the path; thread-compatible.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <string>

#include "agent/base/status.h"

namespace vigil::rules {

class YamlReader {
 public:
  explicit YamlReader(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // `msg` at `n`'s position.
  Status Err(const YAML::Node& n, const std::string& msg) const { return At(n.Mark(), msg); }
  // A yaml-cpp exception (a syntax error, a bad conversion) at its position.
  Status Err(const YAML::Exception& e) const { return At(e.mark, e.msg); }
  // `map` is a mapping whose keys are all in `allowed`: otherwise "field K not found in WHAT"
  // at the first other key, as promtool says it.
  Status CheckKeys(const YAML::Node& map, const std::set<std::string>& allowed,
                   const std::string& what) const;
  // A Prometheus duration in milliseconds (agent/base/duration.h); `what` prefixes the message
  // when given.
  Result<std::int64_t> DurationMs(const YAML::Node& n, const std::string& what = "") const;

 private:
  Status At(const YAML::Mark& m, const std::string& msg) const;
  std::string path_;
};

}  // namespace vigil::rules
