#include "agent/api/rules_api.h"

#include <nlohmann/json.hpp>

#include "rules/alerting_rule.h"
#include "rules/recording_rule.h"
#include "rules/template.h"

namespace vigil {
namespace {

using nlohmann::json;

std::string Rfc3339OrZero(std::optional<TimestampMs> t) {
  return t ? FormatRfc3339(*t) : "0001-01-01T00:00:00Z";
}

json LabelsJson(const Labels& l) {
  json out = json::object();
  for (const Label& x : l) out[x.name] = x.value;
  return out;
}

json AlertJson(const rules::Alert& a) {
  return {{"labels", LabelsJson(a.labels)},
          {"annotations", LabelsJson(a.annotations)},
          {"state", rules::AlertStateString(a.state)},
          {"activeAt", FormatRfc3339(a.active_at)},
          {"value", rules::GoFormatFloat(a.value)}};
}

}  // namespace

GroupApiView RenderGroup(const rules::Group& g) {
  json rules_json = json::array();
  json active = json::array();
  double group_seconds = 0;
  for (const auto& r : g.rules()) {
    double seconds = static_cast<double>(r->last_duration_us()) / 1e6;
    group_seconds += seconds;
    json rj = {{"name", r->name()},
               {"query", r->Query()},
               {"health", rules::RuleHealthString(r->health())},
               {"evaluationTime", seconds},
               {"lastEvaluation", Rfc3339OrZero(r->last_evaluation())}};
    if (!r->last_error().empty()) rj["lastError"] = r->last_error();
    if (const auto* a = dynamic_cast<const rules::AlertingRule*>(r.get())) {
      json alerts = json::array();
      std::string state = "inactive";
      for (const rules::Alert& al : a->ActiveAlerts()) {
        alerts.push_back(AlertJson(al));
        if (al.state != rules::AlertState::kInactive) active.push_back(alerts.back());
        if (al.state == rules::AlertState::kFiring) {
          state = "firing";
        } else if (al.state == rules::AlertState::kPending && state != "firing") {
          state = "pending";
        }
      }
      json annotations = json::object();
      for (const auto& [k, v] : a->annotations()) annotations[k] = v;
      rj["type"] = "alerting";
      rj["state"] = state;
      rj["duration"] = static_cast<double>(a->hold_ms()) / 1000.0;
      rj["keepFiringFor"] = static_cast<double>(a->keep_firing_for_ms()) / 1000.0;
      rj["labels"] = LabelsJson(a->labels());
      rj["annotations"] = annotations;
      rj["alerts"] = alerts;
    } else if (const auto* rec = dynamic_cast<const rules::RecordingRule*>(r.get())) {
      rj["type"] = "recording";
      rj["labels"] = LabelsJson(rec->labels());
    }
    rules_json.push_back(rj);
  }
  GroupApiView view;
  view.rules = {{"name", g.name()},
                {"file", g.file()},
                {"interval", static_cast<double>(g.interval_ms()) / 1000.0},
                {"evaluationTime", group_seconds},
                {"lastEvaluation", Rfc3339OrZero(g.last_evaluation())},
                {"rules", rules_json}};
  view.alerts = std::move(active);
  return view;
}

std::string RulesJson(const GroupViews& groups) {
  json out_groups = json::array();
  for (const auto& g : groups) out_groups.push_back(g->rules);
  json out = {{"status", "success"}, {"data", {{"groups", out_groups}}}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string AlertsJson(const GroupViews& groups) {
  json alerts = json::array();
  for (const auto& g : groups) {
    for (const json& a : g->alerts) alerts.push_back(a);
  }
  json out = {{"status", "success"}, {"data", {{"alerts", alerts}}}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace vigil
