// Collector: one source of metrics (a PostgreSQL server, a Redis, a process group, ...).
//
// The scheduler calls Collect() once per interval from a worker thread, never concurrently
// for one instance. A collector writes what it read into the sink and returns OK, or an
// error saying why its source is (partly) unavailable; what it wrote is exported either way.
// It must honour ctx.deadline in every blocking call (connect and query timeouts) and must
// not throw (the scheduler catches and reports a throw as an internal error).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/base/clock.h"
#include "agent/base/metric.h"
#include "agent/base/status.h"

namespace vigil::collectors {

struct CollectContext {
  TimestampMs now = 0;       // when this cycle started
  TimestampMs deadline = 0;  // when the scheduler gives up on it
};

class Collector {
 public:
  virtual ~Collector() = default;
  virtual Status Collect(const CollectContext& ctx, MetricSink& sink) = 0;
};

// One configured collector instance, validated and ready to build.
struct CollectorSpec {
  std::string kind;      // "process", "postgres", ...
  std::string target;    // the instance's name, the `target` label of vigil_collector_up
  Duration interval{0};  // 0: the global collect_interval
  Duration timeout{0};   // 0: the global collect_timeout
  std::function<std::unique_ptr<Collector>()> make;
};

}  // namespace vigil::collectors
