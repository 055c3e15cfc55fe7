// Appender: where a rule group writes the samples its rules produce (recorded series, ALERTS,
// ALERTS_FOR_STATE and staleness markers). The agent's series store implements it; later rules
// of a group read earlier rules' output through the Querier, so Append must be visible to
// Select right away. Thread-safety is up to the implementation.
#pragma once

#include "agent/base/clock.h"
#include "agent/base/labels.h"

namespace vigil::rules {

class Appender {
 public:
  virtual ~Appender() = default;
  virtual void Append(const Labels& labels, TimestampMs t, double v) = 0;
};

}  // namespace vigil::rules
