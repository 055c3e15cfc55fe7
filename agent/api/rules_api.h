// Prometheus's /api/v1/rules and /api/v1/alerts bodies for a set of loaded rule groups, in
// the shape Prometheus 2.42 writes them (health, lastError, evaluationTime, alerts with
// their state and activeAt). Pure functions: the caller holds whatever lock guards the
// manager (agent/app/rule_evaluator.h).
#pragma once

#include <string>

#include "rules/manager.h"

namespace vigil {

std::string RulesJson(const rules::RuleManager& manager);
// Pending and firing alerts; resolved ones kept for resending are left out.
std::string AlertsJson(const rules::RuleManager& manager);

}  // namespace vigil
