// QueryContext: the deadline and cancellation of one query (an API request or one rule).
//
// The engine and the storage call Check() inside their loops, so a query stops soon after its
// deadline passes or its client goes away. A default-constructed context never stops.
// Thread-safe: Check() only reads; the cancellation flag may be set from another thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>

#include "agent/base/status.h"

namespace vigil::promql {

class QueryContext {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  QueryContext() = default;
  // `cancelled` may be null; when set it must outlive the query.
  QueryContext(SteadyTime deadline, const std::atomic<bool>* cancelled)
      : deadline_(deadline), cancelled_(cancelled) {}
  // A context whose deadline is `timeout` from now.
  static QueryContext WithTimeout(std::chrono::milliseconds timeout,
                                  const std::atomic<bool>* cancelled = nullptr) {
    return QueryContext(std::chrono::steady_clock::now() + timeout, cancelled);
  }

  // OK while the query may go on; DeadlineExceeded or Cancelled once it must stop.
  [[nodiscard]] Status Check() const {
    if (cancelled_ != nullptr && cancelled_->load(std::memory_order_relaxed)) {
      return Status::Cancelled("query was canceled: the client went away");
    }
    if (deadline_ != SteadyTime::max() && std::chrono::steady_clock::now() >= deadline_) {
      return Status::DeadlineExceeded("query timed out in expression evaluation");
    }
    return Status::Ok();
  }

 private:
  SteadyTime deadline_ = SteadyTime::max();
  const std::atomic<bool>* cancelled_ = nullptr;
};

// Prometheus's words when a query would hold more than --query.max-samples samples.
inline constexpr char kTooManySamplesError[] =
    "query processing would load too many samples into memory in query execution";

// What one Querier::Select may cost: at most `max_points` points in all (else
// ResourceExhausted), and it gives up when `ctx` says so.
struct SelectLimits {
  std::int64_t max_points = std::numeric_limits<std::int64_t>::max();
  const QueryContext* ctx = nullptr;
};

}  // namespace vigil::promql
