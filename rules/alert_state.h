// Alert state across restarts: the pending and firing alerts of a RuleManager as a small JSON
// document, and its restoration into a freshly loaded manager.
//
// vigil's series window lives in memory, so unlike Prometheus it cannot rebuild alert state
// from ALERTS_FOR_STATE after a restart; the agent writes this document to a state file
// instead (storage.path) and restores it before the first evaluation. Alerts are matched to
// rules by rule file, group, rule name and query, then by labels. A restored pending alert
// keeps the time it had been pending, not counting the downtime (as Prometheus does, without
// its grace period), so a `for: 10s` alert pending 6 s before a restart fires ~4 s after it.
// A restored firing alert keeps its start time, so Alertmanager sees the same alert, not a new
// page; it is sent again at the first evaluation (what was queued for Alertmanager at the stop
// is lost). The next evaluation decides what stays: an alert whose series is gone resolves.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/status.h"
#include "rules/manager.h"

namespace vigil::rules {

// Every pending and firing alert of `manager`, stamped `saved_at`.
[[nodiscard]] std::string EncodeAlertState(const RuleManager& manager, TimestampMs saved_at);
// The same document from each group's entries (GroupAlertState), for a caller that renders
// groups one at a time (the agent renders each after its evaluation).
[[nodiscard]] nlohmann::json GroupAlertState(const Group& group);
[[nodiscard]] std::string EncodeAlertState(const std::vector<const nlohmann::json*>& group_states,
                                           TimestampMs saved_at);

struct RestoreStats {
  int restored = 0;
  int skipped = 0;  // no matching rule any more, or already active
};

// Restores the alerts of `text` (EncodeAlertState's output) into `manager`'s rules at `now`.
// Fails on a malformed document (restoring what came before the bad entry) and, restoring
// nothing, on one saved more than
// `outage_tolerance_ms` before `now`.
Result<RestoreStats> RestoreAlertState(const std::string& text, TimestampMs now,
                                       std::int64_t outage_tolerance_ms, RuleManager& manager);

}  // namespace vigil::rules
