#include "collectors/postgres/postgres_config.h"

#include "collectors/postgres/postgres_collector.h"

namespace vigil::collectors {

void ParsePostgresConfig(const ConfigNode& node, CollectorSpec& spec) {
  PostgresConfig c;
  c.name = spec.target;
  c.connect.dsn = node.RequiredString("dsn");
  c.connect.password = node.Secret("password", "password_file");
  c.connect.connect_timeout = node.GetDuration("connect_timeout", Duration(5000));
  if (auto dbs = node.Child("databases")) {
    if (dbs->IsList()) {
      c.databases = node.StringList("databases");
    } else if (dbs->AsString() == "auto") {
      c.auto_databases = true;
    } else {
      dbs->Error("want \"auto\" or a list of database names");
    }
  }
  c.max_db_connections = static_cast<int>(node.Int("max_db_connections", 4, 1, 64));
  c.table_limit = static_cast<int>(node.Int("table_limit", 200, 1, 100000));
  c.freeze_table_limit = static_cast<int>(node.Int("freeze_table_limit", 10, 1, 1000));
  c.activity_top_n = static_cast<int>(node.Int("activity_top_n", 20, 1, 1000));
  c.max_connection_age = node.GetDuration("max_connection_age", Duration(3600000));
  if (auto st = node.Child("statements"); st && !st->IsNull()) {
    c.statements = st->Bool("enabled", true);
    c.statements_options.top_n = static_cast<std::size_t>(st->Int("top_n", 50, 1, 1000));
    c.statements_options.text_length =
        static_cast<std::size_t>(st->Int("text_length", 200, 16, 4096));
    c.statements_interval = st->GetDuration("interval", std::max(spec.interval, Duration(60000)));
    st->CheckUnknownKeys();
  } else {
    c.statements_interval = std::max(spec.interval, Duration(60000));
  }
  if (c.statements_interval < spec.interval) {
    node.Error("statements.interval must be at least the collector's interval");
  }
  spec.make = [c] { return std::make_unique<PostgresCollector>(c); };
}

}  // namespace vigil::collectors
