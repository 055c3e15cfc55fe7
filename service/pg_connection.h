// PgConnection: one libpq connection, as the pool hands it out, with its own prepared
// statements and query timing.
//
// Statements are declared once (name, SQL, operation and table for metrics) and prepared
// lazily on each connection the first time it runs them. A failed query whose connection is
// gone marks the connection broken, so the pool replaces it. Not thread-safe: one thread uses a
// connection at a time (the pool guarantees it).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "agent/base/status.h"
#include "service/db_pool.h"

namespace vigil::shop {

// A parameterized statement. `id` indexes per-statement metrics (see kStatementCount).
struct Statement {
  int id;
  const char* name;
  const char* sql;
  const char* operation;  // "select", "insert", "update", ...
  const char* table;      // the main table, for db_query_duration_seconds{table}
};

// Observes every statement's duration; called on the querying thread.
class QueryObserver {
 public:
  virtual ~QueryObserver() = default;
  virtual void OnQuery(const Statement& statement, double seconds, bool ok) = 0;
};

class PgResult {
 public:
  explicit PgResult(PGresult* res) : res_(res, &PQclear) {}
  int rows() const { return PQntuples(res_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  std::string_view Get(int row, int col) const {
    return {PQgetvalue(res_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
  }
  std::int64_t GetInt(int row, int col) const;
  // The number in "UPDATE 3" / "DELETE 0".
  std::int64_t AffectedRows() const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> res_;
};

using PgParams = std::vector<std::optional<std::string>>;

struct PgConnectOptions {
  std::string dsn;  // libpq keyword/value string or URI; never logged
  int connect_timeout_s = 3;
  int statement_timeout_ms = 5000;
};

class PgConnection final : public PoolConnection {
 public:
  // Unavailable (with libpq's message, redacted) when the server cannot be reached.
  static Result<std::unique_ptr<PgConnection>> Connect(const PgConnectOptions& options,
                                                       QueryObserver* observer);
  ~PgConnection() override;

  bool IsBroken() const override;

  // Runs a declared statement with text parameters (nullopt = SQL NULL).
  Result<PgResult> Exec(const Statement& statement, const PgParams& params);
  // Runs SQL text without parameters (transaction control, migrations).
  Result<PgResult> ExecSql(const std::string& sql);
  // COPY ... FROM STDIN: `next` fills a chunk of COPY text and returns false when done.
  Status CopyIn(const std::string& copy_sql, const std::function<bool(std::string*)>& next);

  // SQLSTATE of the last failed query ("23505"), or "" after success.
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  PgConnection(PGconn* conn, QueryObserver* observer) : conn_(conn), observer_(observer) {}
  Status Failure(const char* what, PGresult* res);

  PGconn* conn_;
  QueryObserver* observer_;
  std::unordered_set<int> prepared_;
  std::string last_sqlstate_;
};

}  // namespace vigil::shop
