// ConfigNode: typed, position-aware reading of a YAML config file.
//
// Every error names `file:line:column`, the key path and the problem, e.g.
//   vigil.yml:7:5: process[0].interval: invalid duration "5x" (want e.g. 15s, 1m30s, 500ms)
// Reading a mapping marks keys as used; CheckUnknownKeys() then reports the rest. Errors are
// collected (not thrown) in the shared ConfigErrors, so one pass reports every problem.
// String values expand ${VAR} from the environment ($$ is a literal $).
// Not thread-safe; used once at load time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/labels.h"
#include "agent/base/status.h"

namespace YAML {
class Node;
}

namespace vigil {

class ConfigErrors {
 public:
  explicit ConfigErrors(std::string file) : file_(std::move(file)) {}
  // line and column are 0-based as yaml-cpp gives them; printed 1-based.
  void Add(int line, int column, const std::string& message);
  bool empty() const { return errors_.empty(); }
  const std::string& file() const { return file_; }
  // One line per error, in file order.
  std::string ToString() const;
  Status ToStatus() const;

 private:
  std::string file_;
  std::vector<std::pair<std::pair<int, int>, std::string>> errors_;
};

class ConfigNode {
 public:
  ConfigNode(const YAML::Node& node, std::string path, ConfigErrors* errors);
  ConfigNode(const ConfigNode&);
  ConfigNode& operator=(const ConfigNode&);
  ~ConfigNode();

  const std::string& path() const { return path_; }
  bool IsNull() const;
  bool IsMap() const;
  bool IsList() const;
  // Reports `message` at this node's position.
  void Error(const std::string& message) const;
  ConfigErrors* errors() const { return errors_; }

  // Mapping access (each marks the key used). Absent keys give the default without error.
  bool Has(std::string_view key) const;
  std::optional<ConfigNode> Child(std::string_view key) const;
  std::string String(std::string_view key, std::string_view def = "") const;
  std::string RequiredString(std::string_view key) const;
  bool Bool(std::string_view key, bool def) const;
  long long Int(std::string_view key, long long def, long long min, long long max) const;
  Duration GetDuration(std::string_view key, Duration def) const;
  // A size in bytes as Prometheus writes it: a whole number with an optional unit B, KB, MB,
  // GB (or KiB, MiB, GiB; all powers of 1024, as in Prometheus), e.g. 16MiB; within [min, max].
  long long Bytes(std::string_view key, long long def, long long min, long long max) const;
  // A list under `key` (absent or null: empty; a single mapping is an error).
  std::vector<ConfigNode> List(std::string_view key) const;
  std::vector<std::string> StringList(std::string_view key) const;
  // A mapping of label names to values, validated as user labels.
  Labels LabelMap(std::string_view key) const;
  // A secret given inline (`key`) or in a file (`key_file`, whitespace trimmed); not both.
  std::string Secret(std::string_view key, std::string_view file_key) const;
  // An RE2 regex (fully anchored when used); checked to compile.
  std::string Regex(std::string_view key) const;

  // This node as a scalar string (with ${VAR} expansion).
  std::string AsString() const;
  // Reports every key of this mapping that no accessor has read.
  void CheckUnknownKeys() const;

 private:
  std::string ChildPath(std::string_view key) const;
  std::unique_ptr<YAML::Node> node_;
  std::string path_;
  ConfigErrors* errors_;
  std::shared_ptr<std::set<std::string, std::less<>>> used_;
};

// Expands ${VAR} (error when unset) and $$; other text is kept.
Result<std::string> ExpandEnv(std::string_view text);

}  // namespace vigil
