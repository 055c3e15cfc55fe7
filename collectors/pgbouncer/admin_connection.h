// AdminConnection: a libpq connection to pgbouncer's admin console with a deadline on
// every step.
//
// pgbouncer's console speaks only the simple query protocol and rejects SET, so unlike
// PgConnection this sends no session settings; and since statement_timeout does not exist
// there, connect and every query run non-blocking (PQconnectPoll, PQsendQuery) and give up at
// the deadline set by set_deadline(), closing the connection (the next cycle reconnects).
// A SIGSTOPped pgbouncer therefore costs one timeout, never a hung worker. Errors never carry
// the password (RedactSecrets, DescribeDsn). Thread-compatible.
#pragma once

#include <string>

#include "agent/base/clock.h"
#include "collectors/postgres/query_runner.h"

struct pg_conn;

namespace vigil::collectors {

class AdminConnection final : public QueryRunner {
 public:
  AdminConnection() = default;
  ~AdminConnection() override;
  AdminConnection(const AdminConnection&) = delete;
  AdminConnection& operator=(const AdminConnection&) = delete;

  // Connects to `dsn` (libpq keywords or URI; dbname is forced to "pgbouncer"), with
  // `password` when not empty, giving up at `deadline`.
  Status Connect(const std::string& dsn, const std::string& password, TimestampMs deadline);
  bool connected() const;
  void Close();
  // The time at which Query() gives up.
  void set_deadline(TimestampMs deadline) { deadline_ = deadline; }
  // Runs `sql` with the simple query protocol; the last result of the statement is returned.
  Result<QueryResult> Query(std::string_view sql) override;

 private:
  // Waits until the socket is readable (or writable) or the deadline passes.
  Status Wait(bool for_write, const char* what);

  pg_conn* conn_ = nullptr;
  TimestampMs deadline_ = 0;
  std::string where_;  // DescribeDsn of the DSN, for messages
};

}  // namespace vigil::collectors
