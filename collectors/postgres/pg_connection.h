// PgConnection: one libpq connection with bounded connect and statement times.
//
// Connect() applies connect_timeout and, once connected, sets statement_timeout,
// lock_timeout and application_name for the session. Errors never carry the password:
// libpq messages are passed through RedactSecrets. Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "agent/base/clock.h"
#include "collectors/postgres/query_runner.h"

struct pg_conn;
struct pg_result;

namespace vigil::collectors {

struct PgConnectOptions {
  std::string dsn;       // libpq keyword/value or URI; may lack the password
  std::string password;  // overrides the DSN's, from password/password_file
  std::string dbname;    // overrides the DSN's when set (per-database connections)
  Duration connect_timeout{5000};
  Duration statement_timeout{5000};
};

class PgConnection final : public QueryRunner {
 public:
  PgConnection() = default;
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Status Connect(const PgConnectOptions& options);
  bool connected() const;
  void Close();
  TimestampMs connected_at() const { return connected_at_; }
  // server_version_num, e.g. 150004.
  int server_version() const;
  Result<QueryResult> Query(std::string_view sql) override;
  Status ForEachRow(std::string_view sql, const std::function<void(RowCells)>& row) override;

 private:
  // Runs `sql`; on success *res holds the result (the caller clears it).
  Status Exec(std::string_view sql, pg_result** res);

  pg_conn* conn_ = nullptr;
  TimestampMs connected_at_ = 0;
};

// A libpq result's columns and rows (NULL cells as nullopt); shared with the pgbouncer admin
// connection, which speaks the same protocol.
QueryResult ToQueryResult(const pg_result* res);

// The DSN with any password removed, for logs and labels: "host=x port=5432 dbname=shop".
std::string DescribeDsn(const std::string& dsn);

}  // namespace vigil::collectors
