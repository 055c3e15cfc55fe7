// The agent's own metrics about its collectors and config (vigil_collector_up, ...).
#pragma once

#include <string>
#include <vector>

#include "agent/base/metric.h"
#include "agent/core/collection_store.h"

namespace vigil {

struct ReloadState {
  bool last_successful = true;
  double last_success_timestamp = 0;  // seconds since the epoch
};

// vigil_build_info and vigil_config_last_reload_*.
void AgentInfoMetrics(const ReloadState& reload, MetricSink& sink);
// vigil_collector_{up,duration_seconds,skipped_total,timeouts_total,
// last_success_timestamp_seconds} of one collector instance.
void CollectorSelfMetrics(const CollectorState& state, MetricSink& sink);
// Both, for every instance.
Snapshot AgentSelfMetrics(const std::vector<CollectorState>& states, const ReloadState& reload);

}  // namespace vigil
