#include "collectors/pgbouncer/admin_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "agent/base/log.h"
#include "collectors/postgres/pg_connection.h"

namespace vigil::collectors {
namespace {

std::string OneLine(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  std::replace(msg.begin(), msg.end(), '\t', ' ');
  return RedactSecrets(msg);
}

std::string ErrorText(pg_conn* conn) {
  return conn ? OneLine(PQerrorMessage(conn)) : "out of memory";
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

}  // namespace

AdminConnection::~AdminConnection() { Close(); }

void AdminConnection::Close() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

bool AdminConnection::connected() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

Status AdminConnection::Wait(bool for_write, const char* what) {
  for (;;) {
    TimestampMs left = deadline_ - SystemClock::Get().Now();
    if (left <= 0) {
      return Status::DeadlineExceeded(std::string(what) + " " + where_ + ": timed out");
    }
    pollfd p{PQsocket(conn_), static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    if (p.fd < 0) return Status::Unavailable(std::string(what) + " " + where_ + ": no socket");
    int n = poll(&p, 1, static_cast<int>(std::min<TimestampMs>(left, 60000)));
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) {
      return Status::Unavailable(std::string(what) + " " + where_ +
                                 ": poll: " + std::strerror(errno));
    }
  }
}

Status AdminConnection::Connect(const std::string& dsn, const std::string& password,
                                TimestampMs deadline) {
  Close();
  deadline_ = deadline;
  where_ = DescribeDsn(dsn);
  std::vector<const char*> keys{"dbname", "dbname", "application_name"};
  std::vector<const char*> values{dsn.c_str(), "pgbouncer", "vigil"};
  if (!password.empty()) {
    keys.push_back("password");
    values.push_back(password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectStartParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) {
    Status s = Status::Unavailable("connect to " + where_ + ": " + ErrorText(conn_));
    Close();
    return s;
  }
  PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
  while (poll_status != PGRES_POLLING_OK) {
    if (poll_status == PGRES_POLLING_FAILED) {
      Status s = Status::Unavailable("connect to " + where_ + ": " + ErrorText(conn_));
      Close();
      return s;
    }
    Status w = Wait(poll_status == PGRES_POLLING_WRITING, "connect to");
    if (!w.ok()) {
      Close();
      return w;
    }
    poll_status = PQconnectPoll(conn_);
  }
  return Status::Ok();
}

Result<QueryResult> AdminConnection::Query(std::string_view sql) {
  if (!connected()) return Status::Unavailable("not connected");
  std::string text(sql);
  if (PQsendQuery(conn_, text.c_str()) == 0) {
    Status s = Status::Unavailable(where_ + ": " + ErrorText(conn_));
    Close();
    return s;
  }
  ResultPtr last;
  std::string error;
  for (;;) {
    while (PQisBusy(conn_) != 0) {
      Status w = Wait(false, "query on");
      if (!w.ok()) {
        Close();  // the protocol state is unknown: the next cycle connects anew
        return w;
      }
      if (PQconsumeInput(conn_) == 0) {
        Status s = Status::Unavailable(where_ + ": " + ErrorText(conn_));
        Close();
        return s;
      }
    }
    ResultPtr res(PQgetResult(conn_));
    if (!res) break;
    ExecStatusType st = PQresultStatus(res.get());
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
      last = std::move(res);
    } else if (error.empty()) {
      error = OneLine(PQresultErrorMessage(res.get()));
      if (error.empty()) error = ErrorText(conn_);
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    Status s = Status::Unavailable(where_ + ": " + (error.empty() ? ErrorText(conn_) : error));
    Close();
    return s;
  }
  if (!error.empty()) return Status::Unavailable(where_ + ": " + error);
  if (!last) return Status::Unavailable(where_ + ": no result");
  return ToQueryResult(last.get());
}

}  // namespace vigil::collectors
