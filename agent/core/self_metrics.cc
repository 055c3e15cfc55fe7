#include "agent/core/self_metrics.h"

#include "agent/core/version.h"

namespace vigil {

void AgentInfoMetrics(const ReloadState& reload, MetricSink& sink) {
  sink.Gauge("vigil_build_info", "A metric with a constant 1 labeled by vigil's version.",
             Labels{{"version", kVigilVersion}, {"revision", kVigilRevision}}, 1);
  sink.Gauge("vigil_config_last_reload_successful",
             "Whether the last configuration reload attempt was successful.", {},
             reload.last_successful ? 1 : 0);
  sink.Gauge("vigil_config_last_reload_success_timestamp_seconds",
             "Timestamp of the last successful configuration reload.", {},
             reload.last_success_timestamp);
}

void CollectorSelfMetrics(const CollectorState& s, MetricSink& sink) {
  Labels l{{"collector", s.kind}, {"target", s.target}};
  sink.Gauge("vigil_collector_up", "1 when the collector's last run succeeded, else 0.", l,
             s.up ? 1 : 0);
  sink.Gauge("vigil_collector_duration_seconds", "Duration of the collector's last run.", l,
             s.duration_seconds);
  sink.Counter("vigil_collector_skipped_total",
               "Ticks skipped because the previous run was still busy.", l,
               static_cast<double>(s.skipped));
  sink.Counter("vigil_collector_timeouts_total", "Runs that overran the collector's timeout.", l,
               static_cast<double>(s.timeouts));
  sink.Gauge("vigil_collector_last_success_timestamp_seconds",
             "Start time of the collector's last successful run.", l,
             static_cast<double>(s.last_success) / 1000.0);
}

Snapshot AgentSelfMetrics(const std::vector<CollectorState>& states, const ReloadState& reload) {
  MetricSink sink;
  AgentInfoMetrics(reload, sink);
  for (const CollectorState& s : states) CollectorSelfMetrics(s, sink);
  return sink.Take();
}

}  // namespace vigil
