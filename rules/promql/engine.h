// Engine: evaluates PromQL expressions over a Querier, as Prometheus 2.42 does.
//
// Instant queries evaluate at one time; range queries evaluate at every step from start to
// end. Semantics follow Prometheus: 5m lookback, staleness markers, extrapolated rates,
// metric-name dropping, vector matching, subqueries (step-aligned, their steps shared between
// the evaluation times of a range query) and the `@` modifier (`start()`/`end()` are the
// query's; both are the evaluation time of an instant query). Errors come back as Status values
// (nothing throws). An Engine is immutable and safe to use from several threads; the Querier must
// be too if shared.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "agent/base/status.h"
#include "rules/promql/ast.h"
#include "rules/promql/querier.h"
#include "rules/promql/query_context.h"
#include "rules/promql/value.h"

namespace vigil::promql {

struct EngineOptions {
  std::int64_t lookback_delta_ms = 5 * 60 * 1000;
  // Most samples one query may hold at once (--query.max-samples): the points it loads from
  // storage, and apart from those, the samples of one evaluation step plus, for range queries,
  // the result points so far ("query processing would load too many samples"). A point costs
  // 16 bytes and more in copies: 1,000,000 keeps one query within a few tens of MiB, an
  // agent's share of a host, while the heaviest shipped rule over 40,000 series reads ~500,000.
  std::int64_t max_samples = 1'000'000;
  // How long one query may run (--query.timeout); callers build each query's QueryContext
  // from it. Prometheus's default.
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  // The step of a subquery written without one (`x[5m:]`): Prometheus uses its global
  // evaluation_interval, 1m by default. The agent sets its own on every reload and `vigil test
  // rules` the test file's (set_subquery_step_ms).
  std::int64_t subquery_step_ms = 60 * 1000;
};

class Engine {
 public:
  explicit Engine(EngineOptions options = {})
      : options_(options), subquery_step_ms_(options.subquery_step_ms) {}

  // Evaluates `expr` at time `t`. The result is a vector (samples stamped `t`), a scalar, a
  // string, or a matrix (for a bare range selector).
  // Every evaluation stops with ctx.Check()'s Status once that fails.
  Result<Value> Instant(const Querier& querier, const Expr& expr, TimestampMs t,
                        const QueryContext& ctx = QueryContext()) const;
  // Evaluates `expr` at start, start+step, ... <= end. The result is a matrix, one series per
  // label set; scalar results become a series without labels.
  // REQUIRES: step_ms > 0, end >= start.
  Result<Value> Range(const Querier& querier, const Expr& expr, TimestampMs start, TimestampMs end,
                      std::int64_t step_ms, const QueryContext& ctx = QueryContext()) const;

  // Parse and evaluate in one go.
  Result<Value> InstantQuery(const Querier& querier, std::string_view query, TimestampMs t,
                             const QueryContext& ctx = QueryContext()) const;
  Result<Value> RangeQuery(const Querier& querier, std::string_view query, TimestampMs start,
                           TimestampMs end, std::int64_t step_ms,
                           const QueryContext& ctx = QueryContext()) const;

  const EngineOptions& options() const { return options_; }
  // Replaces options().subquery_step_ms for the queries that start after the call (ms <= 0:
  // 1m). Thread-safe: the one setting that may change while queries run.
  void set_subquery_step_ms(std::int64_t ms) {
    subquery_step_ms_.store(ms > 0 ? ms : 60 * 1000, std::memory_order_relaxed);
  }

 private:
  EngineOptions options_;
  std::atomic<std::int64_t> subquery_step_ms_;
};

}  // namespace vigil::promql
