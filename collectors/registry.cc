#include "collectors/registry.h"

#include <array>

#include "collectors/pgbouncer/pgbouncer_config.h"
#include "collectors/postgres/postgres_config.h"
#include "collectors/process/process_config.h"
#include "collectors/redis/redis_config.h"
#include "collectors/scrape/scrape_config.h"

namespace vigil::collectors {
namespace {

std::vector<CollectorSpec> NoDefaults() { return {}; }

// The table of collector kinds. Order is the order of /metrics and the status page.
const std::array kKinds{
    CollectorKind{"self", "vigil's own process (CPU, memory, fds, threads); always on", nullptr,
                  SelfProcessDefaults},
    CollectorKind{"process", "process groups from /proc, with process-exporter's names",
                  ParseProcessConfig, NoDefaults},
    CollectorKind{"postgres",
                  "PostgreSQL server: activity, locks and blocking, databases, tables, "
                  "bgwriter, settings, replication, pg_stat_statements deltas and top N",
                  ParsePostgresConfig, NoDefaults},
    CollectorKind{"pgbouncer", "pgbouncer admin console (SHOW POOLS/STATS/DATABASES/LISTS)",
                  ParsePgbouncerConfig, NoDefaults},
    CollectorKind{"redis", "Redis servers (INFO, latency, slowlog), with redis_exporter's names",
                  ParseRedisConfig, NoDefaults},
    CollectorKind{"scrape", "Prometheus text endpoints (e.g. a service's /metrics)",
                  ParseScrapeConfig, NoDefaults},
};

}  // namespace

std::span<const CollectorKind> CollectorKinds() { return kKinds; }

const CollectorKind* FindCollectorKind(std::string_view name) {
  for (const CollectorKind& k : kKinds) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

}  // namespace vigil::collectors
