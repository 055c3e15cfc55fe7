// Config of the postgres collector (`postgres:` entries).
#pragma once

#include "agent/base/config_node.h"
#include "collectors/collector.h"

namespace vigil::collectors {

// Reads dsn, password|password_file, databases (auto or a list), max_db_connections,
// table_limit, freeze_table_limit, activity_top_n, max_connection_age, statements {enabled, top_n,
// interval, text_length}.
void ParsePostgresConfig(const ConfigNode& node, CollectorSpec& spec);

}  // namespace vigil::collectors
