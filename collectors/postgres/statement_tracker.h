// StatementTracker: per-query insight from pg_stat_statements that Prometheus can afford.
//
// Each Update() takes a full read of pg_stat_statements(false) (no text) and computes, in the
// agent, every statement's delta since the previous read, keyed by (userid, dbid, queryid,
// toplevel). A statement new since the last read counts all it has (it was created in the
// interval); one whose calls went down was deallocated and re-created, and counts all it has;
// a changed stats_reset (pg_stat_statements_reset()) makes every entry count from zero.
// Deltas never go negative. Emit() exports:
//   - the top N statements by each ranking (total time, calls, rows, shared blocks read, temp
//     blocks) over the interval, as per-second rates and mean time, plus an "other" aggregate
//     per database so sums stay right: series bounded by N, never by the statement count;
//   - cumulative totals of all statements per database (counters, monotonic across resets);
//   - an info series with the normalized, length-bounded text of each top statement.
// Texts are redacted (RedactQueryText: every literal masked) before they are kept.
// Query text is fetched only for statements new in the top N (MissingTexts/SetText).
// Thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/metric.h"

namespace vigil::collectors {

struct StatementKey {
  std::uint32_t userid = 0;
  std::uint32_t dbid = 0;
  std::int64_t queryid = 0;
  bool toplevel = true;
  bool operator==(const StatementKey&) const = default;
  auto operator<=>(const StatementKey&) const = default;
};

struct StatementKeyHash {
  std::size_t operator()(const StatementKey& k) const {
    std::uint64_t h = static_cast<std::uint64_t>(k.queryid) * 0x9E3779B97F4A7C15ull;
    h ^= (static_cast<std::uint64_t>(k.dbid) << 32 | k.userid) + (h << 6) + (h >> 2);
    return static_cast<std::size_t>(h ^ k.toplevel);
  }
};

enum StatementField : std::size_t {
  kCalls,
  kExecMs,
  kRows,
  kSharedHit,
  kSharedRead,
  kSharedWritten,
  kTempRead,
  kTempWritten,
  kBlkReadMs,
  kBlkWriteMs,
  kFieldCount
};
using StatementCounters = std::array<double, kFieldCount>;

struct StatementRow {
  StatementKey key;
  StatementCounters counters{};
};

struct StatementsOptions {
  std::size_t top_n = 50;
  std::size_t text_length = 200;        // characters of normalized text on the info series
  std::size_t full_text_length = 4096;  // characters kept for the HTTP endpoint
};

class StatementTracker {
 public:
  explicit StatementTracker(StatementsOptions options) : options_(options) {}

  // `stats_reset`: pg_stat_statements_info.stats_reset as epoch seconds (0 when unknown).
  void Update(std::vector<StatementRow> rows, TimestampMs now, double stats_reset);
  bool has_interval() const { return interval_seconds_ > 0; }
  double interval_seconds() const { return interval_seconds_; }
  std::size_t tracked() const { return previous_.size(); }

  // Statements in the current top sets whose text is not cached yet.
  std::vector<StatementKey> MissingTexts() const;
  // Keeps `text` redacted (RedactQueryText), normalized and cut to full_text_length.
  void SetText(const StatementKey& key, const std::string& text);
  const StatementsOptions& options() const { return options_; }

  // Names for dbid and userid (from pg_database and pg_roles).
  void SetNames(std::map<std::uint32_t, std::string> databases,
                std::map<std::uint32_t, std::string> users);
  void Emit(MetricSink& sink) const;
  // The top statements with rates and full text, as a JSON array (for /api/v1/postgres/statements).
  std::string DetailsJson() const;

  // Whitespace runs folded to one space, trimmed, cut to `max` characters (UTF-8 safe) with "...".
  static std::string NormalizeText(std::string_view text, std::size_t max);

 private:
  struct Top {
    StatementKey key;
    StatementCounters delta;
  };
  std::string DbName(std::uint32_t dbid) const;
  std::string UserName(std::uint32_t userid) const;

  StatementsOptions options_;
  struct Seen {
    StatementCounters counters;
    std::uint64_t generation = 0;  // the Update() that last saw the statement
  };
  // The last read, updated in place (one map, no rebuild per read).
  std::unordered_map<StatementKey, Seen, StatementKeyHash> previous_;
  std::uint64_t generation_ = 0;
  TimestampMs previous_time_ = 0;
  double stats_reset_ = 0;
  bool has_baseline_ = false;
  double interval_seconds_ = 0;
  std::vector<Top> top_;                               // union of the top-N sets
  std::map<std::uint32_t, StatementCounters> other_;   // dbid -> deltas outside the top
  std::map<std::uint32_t, StatementCounters> totals_;  // dbid -> cumulative since start
  std::unordered_map<StatementKey, std::string, StatementKeyHash> texts_;  // full (bounded)
  std::map<std::uint32_t, std::string> databases_, users_;
};

}  // namespace vigil::collectors
