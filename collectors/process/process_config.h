// Config of the process collector (`process:` entries) and the always-on self collector.
#pragma once

#include <vector>

#include "agent/base/config_node.h"
#include "collectors/collector.h"

namespace vigil::collectors {

// Reads `match` (comm: name or list | cmdline: regex | pidfile: path | cgroup: prefix |
// self: true), `proc_root` and `threads`.
void ParseProcessConfig(const ConfigNode& node, CollectorSpec& spec);
std::vector<CollectorSpec> SelfProcessDefaults();

}  // namespace vigil::collectors
