#include "collectors/pgbouncer/pgbouncer_config.h"

#include <libpq-fe.h>

#include "collectors/pgbouncer/pgbouncer_collector.h"

namespace vigil::collectors {

void ParsePgbouncerConfig(const ConfigNode& node, CollectorSpec& spec) {
  PgbouncerConfig config;
  config.name = spec.target;
  config.dsn = node.RequiredString("dsn");
  config.password = node.Secret("password", "password_file");
  if (!config.dsn.empty()) {
    // Checked here so a typo is a config error, not a failure every cycle. libpq's parse
    // error is not repeated: it may quote the DSN, password included.
    PQconninfoOption* options = PQconninfoParse(config.dsn.c_str(), nullptr);
    if (options == nullptr) {
      node.Child("dsn")->Error("invalid DSN (want libpq key=value pairs or a postgresql:// URI)");
    } else {
      for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (std::string_view(o->keyword) == "dbname" && o->val != nullptr &&
            std::string_view(o->val) != "pgbouncer") {
          node.Child("dsn")->Error("dbname must be pgbouncer (the admin console), not \"" +
                                   std::string(o->val) + "\"");
        }
      }
      PQconninfoFree(options);
    }
  }
  spec.make = [config] { return std::make_unique<PgbouncerCollector>(config); };
}

}  // namespace vigil::collectors
