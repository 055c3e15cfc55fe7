// Prometheus-style durations ("1h30m", "15s", "500ms", "0").
#pragma once

#include <string>
#include <string_view>

#include "agent/base/clock.h"
#include "agent/base/status.h"

namespace vigil {

// Units y w d h m s ms, largest first, each at most once; "0" is zero. An error beyond
// 2^63-1 ms.
Result<Duration> ParseDuration(std::string_view text);
// The shortest such text: 90000ms -> "1m30s", 0 -> "0s".
std::string FormatDuration(Duration d);

}  // namespace vigil
