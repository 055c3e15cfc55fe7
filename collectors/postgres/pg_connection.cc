#include "collectors/postgres/pg_connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <vector>

#include "agent/base/log.h"

namespace vigil::collectors {
namespace {

std::string ErrorText(pg_conn* conn) {
  std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  return RedactSecrets(msg);
}

}  // namespace

PgConnection::~PgConnection() { Close(); }

void PgConnection::Close() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

bool PgConnection::connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

int PgConnection::server_version() const { return conn_ ? PQserverVersion(conn_) : 0; }

Status PgConnection::Connect(const PgConnectOptions& options) {
  Close();
  // Options given as separate keywords override the DSN's (expand_dbname on the first).
  std::string connect_timeout =
      std::to_string(std::max<long long>(2, (options.connect_timeout.count() + 999) / 1000));
  std::vector<const char*> keys{"dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values{options.dsn.c_str(), connect_timeout.c_str(), "vigil"};
  if (!options.password.empty()) {
    keys.push_back("password");
    values.push_back(options.password.c_str());
  }
  if (!options.dbname.empty()) {
    keys.push_back("dbname");
    values.push_back(options.dbname.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (!connected()) {
    Status s =
        Status::Unavailable("connect to " + DescribeDsn(options.dsn) + ": " + ErrorText(conn_));
    Close();
    return s;
  }
  std::string timeout = std::to_string(options.statement_timeout.count());
  Result<QueryResult> set =
      Query("SET statement_timeout = " + timeout + "; SET lock_timeout = " + timeout +
            "; SET idle_in_transaction_session_timeout = 0");
  if (!set.ok()) {
    Close();
    return set.status();
  }
  connected_at_ = SystemClock::Get().Now();
  return Status::Ok();
}

Status PgConnection::Exec(std::string_view sql, pg_result** out) {
  *out = nullptr;
  if (!connected()) return Status::Unavailable("not connected");
  PGresult* res = PQexec(conn_, std::string(sql).c_str());
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string msg = res ? PQresultErrorMessage(res) : ErrorText(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    PQclear(res);
    if (PQstatus(conn_) != CONNECTION_OK) Close();  // the next cycle reconnects
    return Status::Unavailable(RedactSecrets(msg));
  }
  *out = res;
  return Status::Ok();
}

Status PgConnection::ForEachRow(std::string_view sql, const std::function<void(RowCells)>& row) {
  PGresult* res = nullptr;
  if (Status s = Exec(sql, &res); !s.ok()) return s;
  int ncols = PQnfields(res), nrows = PQntuples(res);
  std::vector<std::optional<std::string_view>> cells(static_cast<std::size_t>(ncols));
  for (int r = 0; r < nrows; ++r) {
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res, r, c)) {
        cells[static_cast<std::size_t>(c)].reset();
      } else {
        cells[static_cast<std::size_t>(c)].emplace(
            PQgetvalue(res, r, c), static_cast<std::size_t>(PQgetlength(res, r, c)));
      }
    }
    row(cells);
  }
  PQclear(res);
  return Status::Ok();
}

QueryResult ToQueryResult(const pg_result* res) {
  QueryResult out;
  int ncols = PQnfields(res), nrows = PQntuples(res);
  out.columns.reserve(static_cast<std::size_t>(ncols));
  for (int c = 0; c < ncols; ++c) out.columns.emplace_back(PQfname(res, c));
  out.rows.resize(static_cast<std::size_t>(nrows));
  for (int r = 0; r < nrows; ++r) {
    auto& row = out.rows[static_cast<std::size_t>(r)];
    row.reserve(static_cast<std::size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(res, r, c), static_cast<std::size_t>(PQgetlength(res, r, c))));
      }
    }
  }
  return out;
}

Result<QueryResult> PgConnection::Query(std::string_view sql) {
  PGresult* res = nullptr;
  if (Status s = Exec(sql, &res); !s.ok()) return s;
  QueryResult out = ToQueryResult(res);
  PQclear(res);
  return out;
}

std::string DescribeDsn(const std::string& dsn) {
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), nullptr);
  if (opts == nullptr) return "(unparseable DSN)";
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    std::string key = o->keyword;
    if (!o->val || key == "password") continue;
    if (key != "host" && key != "hostaddr" && key != "port" && key != "dbname" && key != "user") {
      continue;
    }
    if (!out.empty()) out += ' ';
    out += key + "=" + o->val;
  }
  PQconninfoFree(opts);
  return out;
}

}  // namespace vigil::collectors
