// Prometheus durations ("1h30m", "15s", "500ms", "0"): the one home for reading and writing
// them (config, flags, query parameters, PromQL, rule files and rule tests). Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "agent/base/clock.h"
#include "agent/base/status.h"

namespace vigil {

// As Prometheus's model.ParseDuration: units y (365d) w d h m s ms, largest first, each at most
// once; "0" is zero. An error beyond 2^63-1 ms. The message is Prometheus's
// (`not a valid duration string: "X"`), which promtool-compatible output relies on.
Result<Duration> ParseDuration(std::string_view text);
// As Prometheus's model.Duration.String: "1m30s", "0s", "2w" and "1y" only when they divide
// exactly ("90d", not "12w6d"); negative values get a leading "-".
std::string FormatDuration(Duration d);

}  // namespace vigil
