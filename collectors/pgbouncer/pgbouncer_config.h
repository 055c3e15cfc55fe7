// Config of the pgbouncer collector (`pgbouncer:` entries).
#pragma once

#include "agent/base/config_node.h"
#include "collectors/collector.h"

namespace vigil::collectors {

// Reads `dsn` (required; libpq keywords or URI whose dbname, when given, must be
// "pgbouncer") and `password` or `password_file`.
void ParsePgbouncerConfig(const ConfigNode& node, CollectorSpec& spec);

}  // namespace vigil::collectors
