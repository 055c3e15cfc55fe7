// Querier: the storage interface the PromQL engine reads series through.
//
// The agent's in-memory series window implements it; MemoryStorage is a simple implementation
// for tests and offline queries. Implementations must be safe for concurrent Select() calls if
// they are shared between threads; the engine calls it from the evaluating thread only.
#pragma once

#include <vector>

#include "agent/base/clock.h"
#include "agent/base/status.h"
#include "rules/promql/label_matcher.h"
#include "rules/promql/query_context.h"
#include "rules/promql/value.h"

namespace vigil::promql {

class Querier {
 public:
  virtual ~Querier() = default;

  // Returns every series whose labels satisfy all `matchers`, each with its points whose
  // timestamps lie in [mint, maxt] in ascending order. Staleness markers (StaleNaN) are
  // returned as points. Series with no point in the range may be left out. Any order of series
  // is accepted, but returning them sorted by labels saves the engine a sort.
  // Stops with ResourceExhausted once more than `limits.max_points` points would be returned,
  // and with the context's Status once `limits.ctx->Check()` fails. mint > maxt selects nothing.
  virtual Result<std::vector<Series>> Select(const std::vector<LabelMatcher>& matchers,
                                             TimestampMs mint, TimestampMs maxt,
                                             const SelectLimits& limits = {}) const = 0;
};

}  // namespace vigil::promql
