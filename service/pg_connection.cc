#include "service/pg_connection.h"

#include <charconv>
#include <chrono>

#include "agent/base/log.h"

namespace vigil::shop {

std::int64_t PgResult::GetInt(int row, int col) const {
  std::string_view s = Get(row, col);
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::int64_t PgResult::AffectedRows() const {
  const char* n = PQcmdTuples(res_.get());
  std::int64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const PgConnectOptions& options,
                                                            QueryObserver* observer) {
  const std::string timeout = std::to_string(options.connect_timeout_s);
  const std::string pg_options =
      "-c statement_timeout=" + std::to_string(options.statement_timeout_ms);
  const char* keys[] = {"dbname", "connect_timeout", "options", "application_name", nullptr};
  const char* values[] = {options.dsn.c_str(), timeout.c_str(), pg_options.c_str(), "shop",
                          nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Unavailable("postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = RedactSecrets(PQerrorMessage(conn));
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn);
    return Status::Unavailable("postgres connect failed: " + msg);
  }
  // Server notices ("relation already exists, skipping") go to the debug log, not stderr.
  PQsetNoticeProcessor(
      conn,
      [](void*, const char* message) {
        LogDebug("postgres notice", {{"notice", message}});
      },
      nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn, observer));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::IsBroken() const { return PQstatus(conn_) != CONNECTION_OK; }

Status PgConnection::Failure(const char* what, PGresult* res) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state != nullptr ? state : "";
  std::string msg = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
  if (msg.empty()) msg = PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (res != nullptr) PQclear(res);
  msg = std::string(what) + ": " + msg;
  if (IsBroken() || last_sqlstate_.rfind("08", 0) == 0 || last_sqlstate_ == "57P01") {
    return Status::Unavailable(msg);
  }
  if (last_sqlstate_ == "57014") return Status::DeadlineExceeded(msg);  // statement timeout
  return Status::Internal(msg);
}

Result<PgResult> PgConnection::Exec(const Statement& statement, const PgParams& params) {
  const auto start = std::chrono::steady_clock::now();
  if (!prepared_.contains(statement.id)) {
    PGresult* res = PQprepare(conn_, statement.name, statement.sql, 0, nullptr);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      return Failure((std::string("prepare ") + statement.name).c_str(), res);
    }
    PQclear(res);
    prepared_.insert(statement.id);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* res = PQexecPrepared(conn_, statement.name, static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0);
  const ExecStatusType st = PQresultStatus(res);
  const bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
  if (observer_ != nullptr) {
    observer_->OnQuery(
        statement, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
        ok);
  }
  if (!ok) return Failure(statement.name, res);
  last_sqlstate_.clear();
  return PgResult(res);
}

Result<PgResult> PgConnection::ExecSql(const std::string& sql) {
  PGresult* res = PQexec(conn_, sql.c_str());
  const ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return Failure("query", res);
  last_sqlstate_.clear();
  return PgResult(res);
}

Status PgConnection::CopyIn(const std::string& copy_sql,
                            const std::function<bool(std::string*)>& next) {
  PGresult* res = PQexec(conn_, copy_sql.c_str());
  if (PQresultStatus(res) != PGRES_COPY_IN) return Failure("copy", res);
  PQclear(res);
  std::string chunk;
  bool more = true;
  while (more) {
    chunk.clear();
    more = next(&chunk);
    if (!chunk.empty() && PQputCopyData(conn_, chunk.data(), static_cast<int>(chunk.size())) != 1) {
      return Failure("copy data", nullptr);
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) return Failure("copy end", nullptr);
  res = PQgetResult(conn_);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) return Failure("copy", res);
  PQclear(res);
  while ((res = PQgetResult(conn_)) != nullptr) PQclear(res);
  return Status::Ok();
}

}  // namespace vigil::shop
