// Prometheus's /api/v1/rules and /api/v1/alerts bodies for a set of loaded rule groups, in
// the shape Prometheus 2.42 writes them (health, lastError, evaluationTime, alerts with
// their state and activeAt). Pure functions. A group is rendered on its own (RenderGroup), by
// whoever may touch it at that moment (its evaluation worker, or the loader: see
// agent/app/rule_evaluator.h); the bodies are joined from those views.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rules/group.h"

namespace vigil {

// One group's part of both bodies.
struct GroupApiView {
  nlohmann::json rules;   // its object in /api/v1/rules
  nlohmann::json alerts;  // its pending and firing alerts (resolved ones kept for resending are
                          // left out), an array
};
[[nodiscard]] GroupApiView RenderGroup(const rules::Group& group);

using GroupViews = std::vector<std::shared_ptr<const GroupApiView>>;
[[nodiscard]] std::string RulesJson(const GroupViews& groups);
[[nodiscard]] std::string AlertsJson(const GroupViews& groups);

}  // namespace vigil
