// Relabeling as Prometheus's `write_relabel_configs` does it, for the common actions:
// replace, keep, drop, labeldrop, labelkeep.
//
// Semantics follow Prometheus: source label values joined with `separator` are matched
// against the fully anchored RE2 `regex`; `replace` writes the expanded `replacement`
// ($1, ${1}, $name, ${name}; $$ is a literal $) into `target_label` (itself expanded),
// removing it when the result is empty, and does nothing when the regex does not match.
// A RelabelConfig is immutable once built and safe to share between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/labels.h"
#include "agent/base/status.h"

namespace re2 {
class RE2;
}

namespace vigil::remote {

enum class RelabelAction { kReplace, kKeep, kDrop, kLabelDrop, kLabelKeep };

std::optional<RelabelAction> ParseRelabelAction(std::string_view name);

struct RelabelRule {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string regex = "(.*)";
  std::string target_label;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
};

class RelabelConfig {
 public:
  // Compiles the regex (anchored). Errors name what is wrong (bad regex, a replace
  // without target_label, ...).
  static Result<RelabelConfig> Make(RelabelRule rule);

  const RelabelRule& rule() const { return rule_; }
  // Applies this step; false when the series is to be dropped.
  bool Apply(Labels& labels) const;

 private:
  RelabelRule rule_;
  std::shared_ptr<const re2::RE2> re_;
};

// Applies every step in order; false when one of them drops the series.
bool Relabel(const std::vector<RelabelConfig>& configs, Labels& labels);

}  // namespace vigil::remote
