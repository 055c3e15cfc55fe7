#include "collectors/postgres/statement_tracker.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "collectors/postgres/query_redaction.h"

namespace vigil::collectors {
namespace {

// The rankings of the top-N sets: the field each ranks by and its label value.
constexpr std::array<std::pair<StatementField, const char*>, 5> kRankings{{
    {kExecMs, "total_time"},
    {kCalls, "calls"},
    {kRows, "rows"},
    {kSharedRead, "shared_blks_read"},
    {kTempWritten, "temp_blks_written"},
}};

// Per-second rates exported for each top statement: (field, metric, help, scale).
struct RateMetric {
  StatementField field;
  const char* name;
  const char* help;
  double scale;
};
constexpr std::array<RateMetric, 7> kRates{{
    {kCalls, "vigil_pg_statement_calls_per_second", "Calls per second over the last interval.", 1},
    {kExecMs, "vigil_pg_statement_exec_seconds_per_second",
     "Execution seconds per second over the last interval (the statement's load).", 1e-3},
    {kRows, "vigil_pg_statement_rows_per_second", "Rows per second over the last interval.", 1},
    {kSharedRead, "vigil_pg_statement_shared_blks_read_per_second",
     "Shared blocks read (not in the buffer cache) per second over the last interval.", 1},
    {kSharedHit, "vigil_pg_statement_shared_blks_hit_per_second",
     "Shared buffer hits per second over the last interval.", 1},
    {kTempWritten, "vigil_pg_statement_temp_blks_written_per_second",
     "Temp blocks written per second over the last interval.", 1},
    {kBlkReadMs, "vigil_pg_statement_io_read_seconds_per_second",
     "Seconds spent reading blocks per second (track_io_timing).", 1e-3},
}};

struct TotalMetric {
  StatementField field;
  const char* name;
  const char* help;
  double scale;
};
constexpr std::array<TotalMetric, 6> kTotals{{
    {kCalls, "vigil_pg_statements_calls_total", "Calls of all statements since vigil started.", 1},
    {kExecMs, "vigil_pg_statements_exec_seconds_total",
     "Execution time of all statements since vigil started.", 1e-3},
    {kRows, "vigil_pg_statements_rows_total", "Rows of all statements since vigil started.", 1},
    {kSharedRead, "vigil_pg_statements_shared_blks_read_total",
     "Shared blocks read by all statements since vigil started.", 1},
    {kSharedHit, "vigil_pg_statements_shared_blks_hit_total",
     "Shared buffer hits of all statements since vigil started.", 1},
    {kTempWritten, "vigil_pg_statements_temp_blks_written_total",
     "Temp blocks written by all statements since vigil started.", 1},
}};

void AddTo(StatementCounters& into, const StatementCounters& d) {
  for (std::size_t i = 0; i < kFieldCount; ++i) into[i] += d[i];
}

}  // namespace

std::string StatementTracker::NormalizeText(std::string_view text, std::size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max + 3));
  bool space = false;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    bool continuation = (c & 0xC0) == 0x80;
    if (!continuation) {
      if (chars + (space ? 1 : 0) >= max) {
        out += "...";
        return out;
      }
      if (space) {
        out += ' ';
        ++chars;
      }
      space = false;
      ++chars;
    }
    out += static_cast<char>(c);
  }
  return out;
}

void StatementTracker::Update(std::vector<StatementRow> rows, TimestampMs now, double stats_reset) {
  bool reset = has_baseline_ && stats_reset != 0 && stats_reset != stats_reset_;
  if (reset) previous_.clear();
  std::vector<Top> deltas;
  if (has_baseline_) deltas.reserve(rows.size());
  ++generation_;
  previous_.reserve(rows.size());
  for (const StatementRow& row : rows) {
    auto [it, inserted] = previous_.try_emplace(row.key);
    Seen& seen = it->second;
    if (seen.generation == generation_) continue;  // a duplicate key: the first row counts
    if (has_baseline_) {
      StatementCounters d = row.counters;
      if (!inserted && row.counters[kCalls] >= seen.counters[kCalls]) {
        for (std::size_t i = 0; i < kFieldCount; ++i) {
          d[i] = std::max(0.0, row.counters[i] - seen.counters[i]);
        }
      }
      if (d[kCalls] > 0 || d[kExecMs] > 0) deltas.push_back({row.key, d});
    }
    seen.counters = row.counters;
    seen.generation = generation_;
  }
  // Statements gone from the view (deallocated or reset) are forgotten.
  std::erase_if(previous_, [&](const auto& e) { return e.second.generation != generation_; });
  stats_reset_ = stats_reset;
  top_.clear();
  other_.clear();
  if (!has_baseline_) {
    has_baseline_ = true;
    previous_time_ = now;
    return;
  }
  interval_seconds_ = std::max(0.001, static_cast<double>(now - previous_time_) / 1000.0);
  previous_time_ = now;

  // The union of the top-N sets of every ranking.
  std::vector<bool> chosen(deltas.size(), false);
  std::vector<std::size_t> order(deltas.size());
  for (const auto& ranking : kRankings) {
    // Not a structured binding: clang before 16 cannot capture those (the fuzz build uses 14).
    const StatementField field = ranking.first;
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::size_t n = std::min(options_.top_n, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        return deltas[a].delta[field] > deltas[b].delta[field];
                      });
    for (std::size_t i = 0; i < n && deltas[order[i]].delta[field] > 0; ++i)
      chosen[order[i]] = true;
  }
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    AddTo(totals_[deltas[i].key.dbid], deltas[i].delta);
    if (chosen[i]) {
      top_.push_back(deltas[i]);
    } else {
      AddTo(other_[deltas[i].key.dbid], deltas[i].delta);
    }
  }
  std::sort(top_.begin(), top_.end(),
            [](const Top& a, const Top& b) { return a.delta[kExecMs] > b.delta[kExecMs]; });
  // Forget texts of statements that left the view (bounded by the view's size).
  if (texts_.size() > 4 * options_.top_n + 64) {
    for (auto it = texts_.begin(); it != texts_.end();) {
      it = previous_.count(it->first) ? std::next(it) : texts_.erase(it);
    }
  }
}

std::vector<StatementKey> StatementTracker::MissingTexts() const {
  std::vector<StatementKey> out;
  for (const Top& t : top_) {
    if (!texts_.count(t.key)) out.push_back(t.key);
  }
  return out;
}

void StatementTracker::SetText(const StatementKey& key, const std::string& text) {
  texts_[key] = NormalizeText(RedactQueryText(text), options_.full_text_length);
}

void StatementTracker::SetNames(std::map<std::uint32_t, std::string> databases,
                                std::map<std::uint32_t, std::string> users) {
  databases_ = std::move(databases);
  users_ = std::move(users);
}

std::string StatementTracker::DbName(std::uint32_t dbid) const {
  auto it = databases_.find(dbid);
  return it != databases_.end() ? it->second : std::to_string(dbid);
}

std::string StatementTracker::UserName(std::uint32_t userid) const {
  auto it = users_.find(userid);
  return it != users_.end() ? it->second : std::to_string(userid);
}

void StatementTracker::Emit(MetricSink& sink) const {
  for (const auto& [dbid, totals] : totals_) {
    Labels l{{"datname", DbName(dbid)}};
    for (const TotalMetric& m : kTotals) sink.Counter(m.name, m.help, l, totals[m.field] * m.scale);
  }
  sink.Gauge("vigil_pg_statements_tracked", "Entries in pg_stat_statements at the last read.", {},
             static_cast<double>(previous_.size()));
  if (!has_interval()) return;
  sink.Gauge("vigil_pg_statements_interval_seconds",
             "Length of the interval the per-statement rates cover.", {}, interval_seconds_);
  auto emit = [&](const Labels& l, const StatementCounters& d) {
    for (const RateMetric& m : kRates) {
      sink.Gauge(m.name, m.help, l, d[m.field] * m.scale / interval_seconds_);
    }
    if (d[kCalls] > 0) {
      sink.Gauge("vigil_pg_statement_mean_exec_seconds",
                 "Mean execution time per call over the last interval.", l,
                 d[kExecMs] / 1000.0 / d[kCalls]);
    }
  };
  for (const Top& t : top_) {
    Labels l{{"datname", DbName(t.key.dbid)},
             {"user", UserName(t.key.userid)},
             {"queryid", std::to_string(t.key.queryid)},
             {"toplevel", t.key.toplevel ? "true" : "false"}};
    emit(l, t.delta);
    if (auto it = texts_.find(t.key); it != texts_.end()) {
      Labels info = l;
      info.Set("query", NormalizeText(it->second, options_.text_length));
      sink.Gauge("vigil_pg_statement_info", "The normalized text of a top statement.", info, 1);
    }
  }
  for (const auto& [dbid, d] : other_) {
    emit(Labels{{"datname", DbName(dbid)}, {"queryid", "other"}}, d);
  }
}

std::string StatementTracker::DetailsJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const Top& t : top_) {
    auto it = texts_.find(t.key);
    double calls = t.delta[kCalls];
    out.push_back({
        {"datname", DbName(t.key.dbid)},
        {"user", UserName(t.key.userid)},
        {"queryid", std::to_string(t.key.queryid)},
        {"toplevel", t.key.toplevel},
        {"calls", calls},
        {"total_exec_seconds", t.delta[kExecMs] / 1000.0},
        {"mean_exec_seconds", calls > 0 ? t.delta[kExecMs] / 1000.0 / calls : 0.0},
        {"rows", t.delta[kRows]},
        {"shared_blks_hit", t.delta[kSharedHit]},
        {"shared_blks_read", t.delta[kSharedRead]},
        {"temp_blks_written", t.delta[kTempWritten]},
        {"interval_seconds", interval_seconds_},
        {"query", it != texts_.end() ? it->second : ""},
    });
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vigil::collectors
