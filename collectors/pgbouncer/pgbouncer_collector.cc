#include "collectors/pgbouncer/pgbouncer_collector.h"

#include <algorithm>

#include "agent/base/log.h"
#include "collectors/pgbouncer/pgbouncer_views.h"

namespace vigil::collectors {

PgbouncerCollector::PgbouncerCollector(PgbouncerConfig config) : config_(std::move(config)) {}

Status PgbouncerCollector::Collect(const CollectContext& scheduler_ctx, MetricSink& sink) {
  // Give up a little before the scheduler does, so a hung (SIGSTOPped) pgbouncer still
  // reports pgbouncer_up 0 (the scheduler drops the result of a run that overran).
  TimestampMs deadline =
      scheduler_ctx.deadline -
      std::min<TimestampMs>(
          100, std::max<TimestampMs>(0, (scheduler_ctx.deadline - scheduler_ctx.now) / 10));
  sink.SetCommonLabels(Labels{{"target", config_.name}});
  Status status = Status::Ok();
  if (!conn_.connected()) status = conn_.Connect(config_.dsn, config_.password, deadline);
  if (status.ok()) {
    conn_.set_deadline(deadline);
    status = CollectPgbouncerViews(conn_, sink);
    // A failed command may leave the console in an unknown state: start afresh next time.
    if (!status.ok()) conn_.Close();
  }
  sink.Gauge("pgbouncer_up", "1 when every SHOW command on pgbouncer's admin console answered", {},
             status.ok() ? 1 : 0);
  if (!status.ok()) {
    if (status.message() != last_error_) {
      LogWarn("pgbouncer unavailable", {{"target", config_.name}, {"err", status.message()}});
      last_error_ = status.message();
    }
  } else if (!last_error_.empty()) {
    LogInfo("pgbouncer reachable again", {{"target", config_.name}});
    last_error_.clear();
  }
  return status;
}

}  // namespace vigil::collectors
