#include "collectors/postgres/statements.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "collectors/postgres/query_redaction.h"

namespace vigil::collectors {
namespace {

template <typename T>
T ParseInt(std::string_view s) {
  T v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::string StatementsQuery(int version_num) {
  std::string exec = version_num >= 130000 ? "total_exec_time" : "total_time";
  std::string toplevel = version_num >= 140000 ? "toplevel" : "true";
  std::string io = version_num >= 170000 ? "shared_blk_read_time, shared_blk_write_time"
                                         : "blk_read_time, blk_write_time";
  return "SELECT userid, dbid, queryid, " + toplevel + " AS toplevel, calls, " + exec +
         ", rows, shared_blks_hit, shared_blks_read, shared_blks_written, temp_blks_read, "
         "temp_blks_written, " +
         io + " FROM pg_stat_statements(false) WHERE queryid IS NOT NULL";
}

Status ReadStatements(QueryRunner& db, const ServerInfo& info, TimestampMs now,
                      StatementTracker& tracker, MetricSink& sink) {
  // Rows are parsed straight from the driver's buffer (no QueryResult copy: this result has
  // one row per statement, up to pg_stat_statements.max). Columns by position: the query fixes
  // their order.
  std::vector<StatementRow> rows;
  rows.reserve(tracker.tracked() + 64);
  Status read = db.ForEachRow(StatementsQuery(info.version_num), [&](RowCells cells) {
    if (cells.size() < 4 + kFieldCount || !cells[0] || !cells[1] || !cells[2]) return;
    StatementRow& row = rows.emplace_back();
    row.key.userid = ParseInt<std::uint32_t>(*cells[0]);
    row.key.dbid = ParseInt<std::uint32_t>(*cells[1]);
    row.key.queryid = ParseInt<std::int64_t>(*cells[2]);
    row.key.toplevel = cells[3] && *cells[3] == "t";
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      const auto& cell = cells[4 + f];
      if (cell) std::from_chars(cell->data(), cell->data() + cell->size(), row.counters[f]);
    }
  });
  if (!read.ok()) return read.WithContext("pg_stat_statements");
  double stats_reset = 0;
  if (info.version_num >= 140000) {
    Result<QueryResult> i = db.Query(
        "SELECT extract(epoch from stats_reset) AS stats_reset, dealloc "
        "FROM pg_stat_statements_info");
    if (i.ok() && !i->rows.empty()) {
      stats_reset = i->Number(0, "stats_reset").value_or(0);
      sink.Counter("pg_stat_statements_deallocations_total",
                   "Times pg_stat_statements evicted the least-executed statements because it "
                   "was full (pg_stat_statements.max too low)",
                   {}, i->Number(0, "dealloc").value_or(0));
    }
  }
  tracker.Update(std::move(rows), now, stats_reset);

  // One array constant, not an IN list: PostgreSQL before 18 makes every IN-list length its
  // own pg_stat_statements entry, so vigil would add up to 5 x top_n statements of its own.
  std::vector<StatementKey> missing = tracker.MissingTexts();
  if (!missing.empty()) {
    std::string ids;
    for (const StatementKey& k : missing) {
      if (!ids.empty()) ids += ",";
      ids += std::to_string(k.queryid);
    }
    // Texts are cut in the server: pg_stat_statements keeps them whole (a generated statement
    // can be megabytes). Four times what is kept leaves room for the whitespace that
    // normalization folds, and stays within RedactQueryText's bound.
    std::size_t cut = std::min(4 * tracker.options().full_text_length, kMaxRedactedQueryBytes / 4);
    Result<QueryResult> t = db.Query(
        "SELECT userid, dbid, queryid, " +
        std::string(info.version_num >= 140000 ? "toplevel" : "true") +
        " AS toplevel, left(query, " + std::to_string(cut) +
        ") AS query FROM pg_stat_statements(true) WHERE queryid = ANY('{" + ids + "}'::bigint[])");
    if (!t.ok()) return t.status().WithContext("pg_stat_statements text");
    for (std::size_t i = 0; i < t->rows.size(); ++i) {
      StatementKey key{ParseInt<std::uint32_t>(t->Text(i, "userid")),
                       ParseInt<std::uint32_t>(t->Text(i, "dbid")),
                       ParseInt<std::int64_t>(t->Text(i, "queryid")),
                       t->Text(i, "toplevel") == "t"};
      tracker.SetText(key, std::string(t->Text(i, "query")));
    }
  }

  std::map<std::uint32_t, std::string> databases, users;
  if (Result<QueryResult> d = db.Query("SELECT oid, datname FROM pg_database"); d.ok()) {
    for (std::size_t i = 0; i < d->rows.size(); ++i) {
      databases[ParseInt<std::uint32_t>(d->Text(i, "oid"))] = std::string(d->Text(i, "datname"));
    }
  }
  if (Result<QueryResult> u = db.Query("SELECT oid, rolname FROM pg_roles"); u.ok()) {
    for (std::size_t i = 0; i < u->rows.size(); ++i) {
      users[ParseInt<std::uint32_t>(u->Text(i, "oid"))] = std::string(u->Text(i, "rolname"));
    }
  }
  tracker.SetNames(std::move(databases), std::move(users));
  return Status::Ok();
}

}  // namespace vigil::collectors
