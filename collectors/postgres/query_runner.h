// QueryRunner: what the PostgreSQL views need from a database connection, so each view is
// tested with a scripted runner and runs for real over libpq (PgConnection).
// A QueryRunner is used by one collection at a time (thread-compatible).
#pragma once

#include <charconv>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"

namespace vigil::collectors {

// A query's result as text: NULL is nullopt. Columns are looked up by name.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;

  // Index of column `name`, or -1.
  int Column(std::string_view name) const {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
  // The text of row `r`, column `name`; "" when NULL or absent.
  std::string_view Text(std::size_t r, std::string_view name) const {
    int c = Column(name);
    if (c < 0 || !rows[r][static_cast<std::size_t>(c)]) return "";
    return *rows[r][static_cast<std::size_t>(c)];
  }
  // The number in row `r`, column `name`; nullopt when NULL, absent or not a number
  // (NULLs never abort a collection). Booleans read as 1/0.
  std::optional<double> Number(std::size_t r, std::string_view name) const {
    int c = Column(name);
    if (c < 0 || !rows[r][static_cast<std::size_t>(c)]) return std::nullopt;
    const std::string& s = *rows[r][static_cast<std::size_t>(c)];
    if (s == "t") return 1.0;
    if (s == "f") return 0.0;
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
  }
};

// One row of a result as views of its cells (nullopt is NULL), valid only during the call.
using RowCells = std::span<const std::optional<std::string_view>>;

class QueryRunner {
 public:
  virtual ~QueryRunner() = default;
  // Runs one statement (simple query protocol, no parameters).
  virtual Result<QueryResult> Query(std::string_view sql) = 0;
  // Runs one statement and calls `row` with each row in order, without copying the result
  // into a QueryResult: for large results (pg_stat_statements). The default goes through Query().
  virtual Status ForEachRow(std::string_view sql, const std::function<void(RowCells)>& row) {
    Result<QueryResult> r = Query(sql);
    if (!r.ok()) return r.status();
    std::vector<std::optional<std::string_view>> cells;
    for (const auto& in : r->rows) {
      cells.assign(in.begin(), in.end());
      row(cells);
    }
    return Status::Ok();
  }
};

}  // namespace vigil::collectors
