// The explicit table of collector kinds: name, help, whether it runs without being
// configured, and the function that validates one config entry into a CollectorSpec.
// Adding a kind means adding a row in registry.cc; nothing registers itself.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "agent/base/config_node.h"
#include "collectors/collector.h"

namespace vigil::collectors {

struct CollectorKind {
  std::string_view name;  // the config section holding a list of instances
  std::string_view help;
  // Parses one list entry (its `name`, `interval` and `timeout` are read by the caller and
  // already set in `spec`); reports errors through `node` and fills spec.make.
  // nullptr: the kind has no config section.
  void (*parse)(const ConfigNode& node, CollectorSpec& spec);
  // Instances that run when the config has no section for this kind (empty: none).
  std::vector<CollectorSpec> (*defaults)();
};

std::span<const CollectorKind> CollectorKinds();
const CollectorKind* FindCollectorKind(std::string_view name);

}  // namespace vigil::collectors
