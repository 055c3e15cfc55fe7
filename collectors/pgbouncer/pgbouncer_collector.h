// The pgbouncer collector: one pgbouncer (a `pgbouncer:` entry), read through its admin
// console with SHOW VERSION, LISTS, CONFIG, POOLS, DATABASES and STATS, exported with
// prometheus-community/pgbouncer_exporter's names (see pgbouncer_views.h).
//
// Every sample carries `target="<name>"`. The connection is kept between cycles; after a
// failure it is closed and the next cycle connects again (the interval is the backoff), so a
// restarted pgbouncer is picked up by itself. pgbouncer_up is 1 when every command answered,
// else 0 with an error status. Connect and queries stop a little before ctx.deadline.
// The password is never logged or exported. Thread-compatible: the scheduler never runs one
// instance concurrently.
#pragma once

#include <string>

#include "collectors/collector.h"
#include "collectors/pgbouncer/admin_connection.h"

namespace vigil::collectors {

struct PgbouncerConfig {
  std::string name;
  std::string dsn;       // libpq keywords or URI; dbname is always "pgbouncer"
  std::string password;  // from password/password_file; empty: the DSN's or none
};

class PgbouncerCollector final : public Collector {
 public:
  explicit PgbouncerCollector(PgbouncerConfig config);
  Status Collect(const CollectContext& ctx, MetricSink& sink) override;

 private:
  PgbouncerConfig config_;
  AdminConnection conn_;
  std::string last_error_;
};

}  // namespace vigil::collectors
