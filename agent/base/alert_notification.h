// AlertNotification: one alert as it goes to Alertmanager (an item of POST /api/v2/alerts).
// The rules write them (rules::AlertingRule::AlertsToSend) and the notifier sends them
// (agent/notifier); this is their one shared type. A plain value.
#pragma once

#include <string>

#include "agent/base/clock.h"
#include "agent/base/labels.h"

namespace vigil {

struct AlertNotification {
  Labels labels;
  Labels annotations;
  TimestampMs starts_at = 0;  // when the alert fired
  // The resolve time or, while firing, a time after which Alertmanager may consider it
  // resolved; 0: unset (not sent).
  TimestampMs ends_at = 0;
  bool resolved = false;
  std::string generator_url;  // the link back to vigil: web.external_url + "/#alerts"
};

}  // namespace vigil
