// Config of the Redis collector (`redis:` entries).
#pragma once

#include "agent/base/config_node.h"
#include "collectors/collector.h"

namespace vigil::collectors {

// Reads `address` (host:port, default 127.0.0.1:6379), `username`, `password` or
// `password_file`, `slowlog` (bool) and `slowlog_max` (1..10000).
void ParseRedisConfig(const ConfigNode& node, CollectorSpec& spec);

}  // namespace vigil::collectors
