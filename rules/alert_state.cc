#include "rules/alert_state.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "rules/alerting_rule.h"

namespace vigil::rules {
namespace {

using nlohmann::json;

constexpr int kVersion = 1;

json LabelsToJson(const Labels& labels) {
  json out = json::object();
  for (const Label& l : labels) out[l.name] = l.value;
  return out;
}

Labels LabelsFromJson(const json& j) {
  Labels out;
  for (const auto& [k, v] : j.items()) out.Set(k, v.get<std::string>());
  return out;
}

std::string RuleKey(const std::string& file, const std::string& group, const std::string& rule,
                    const std::string& query) {
  return file + '\n' + group + '\n' + rule + '\n' + query;
}

}  // namespace

json GroupAlertState(const Group& g) {
  json alerts = json::array();
  for (const auto& r : g.rules()) {
    const auto* rule = dynamic_cast<const AlertingRule*>(r.get());
    if (!rule) continue;
    for (const Alert& a : rule->ActiveAlerts()) {
      if (a.state == AlertState::kInactive) continue;
      json j = {{"file", g.file()},
                {"group", g.name()},
                {"rule", rule->name()},
                {"query", rule->Query()},
                {"labels", LabelsToJson(a.labels)},
                {"annotations", LabelsToJson(a.annotations)},
                {"state", AlertStateString(a.state)},
                {"active_at", a.active_at},
                {"value", std::isfinite(a.value) ? json(a.value) : json()}};
      if (a.fired_at) j["fired_at"] = *a.fired_at;
      alerts.push_back(std::move(j));
    }
  }
  return alerts;
}

std::string EncodeAlertState(const std::vector<const json*>& group_states, TimestampMs saved_at) {
  json alerts = json::array();
  for (const json* g : group_states) {
    for (const json& a : *g) alerts.push_back(a);
  }
  json out = {{"version", kVersion}, {"saved_at", saved_at}, {"alerts", alerts}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string EncodeAlertState(const RuleManager& manager, TimestampMs saved_at) {
  std::vector<json> states;
  for (const auto& g : manager.groups()) states.push_back(GroupAlertState(*g));
  std::vector<const json*> pointers;
  for (const json& st : states) pointers.push_back(&st);
  return EncodeAlertState(pointers, saved_at);
}

Result<RestoreStats> RestoreAlertState(const std::string& text, TimestampMs now,
                                       std::int64_t outage_tolerance_ms, RuleManager& manager) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("version", 0) != kVersion ||
      !doc.contains("saved_at") || !doc["saved_at"].is_number_integer() ||
      !doc.contains("alerts") || !doc["alerts"].is_array()) {
    return Status::InvalidArgument("not an alert state file (version " + std::to_string(kVersion) +
                                   ")");
  }
  TimestampMs saved_at = doc["saved_at"].get<TimestampMs>();
  std::int64_t downtime = std::max<std::int64_t>(0, now - saved_at);
  if (downtime > outage_tolerance_ms) {
    return Status::Unavailable("alert state saved " + std::to_string(downtime / 1000) +
                               "s ago, more than the outage tolerance; not restored");
  }
  std::map<std::string, AlertingRule*> rules;
  for (const auto& g : manager.groups()) {
    for (const auto& r : g->rules()) {
      if (auto* rule = dynamic_cast<AlertingRule*>(r.get())) {
        rules[RuleKey(g->file(), g->name(), rule->name(), rule->Query())] = rule;
      }
    }
  }
  RestoreStats stats;
  try {
    for (const json& j : doc["alerts"]) {
      auto it =
          rules.find(RuleKey(j.at("file").get<std::string>(), j.at("group").get<std::string>(),
                             j.at("rule").get<std::string>(), j.at("query").get<std::string>()));
      std::string state = j.at("state").get<std::string>();
      if (it == rules.end() || (state != "pending" && state != "firing")) {
        ++stats.skipped;
        continue;
      }
      Alert a;
      a.labels = LabelsFromJson(j.at("labels"));
      a.annotations = LabelsFromJson(j.at("annotations"));
      a.active_at = j.at("active_at").get<TimestampMs>();
      a.value = j.at("value").is_number() ? j.at("value").get<double>() : 0;
      if (state == "pending") {
        a.state = AlertState::kPending;
        a.active_at += downtime;  // time down is not time pending
      } else {
        a.state = AlertState::kFiring;
        if (j.contains("fired_at")) a.fired_at = j["fired_at"].get<TimestampMs>();
      }
      if (it->second->RestoreAlert(std::move(a))) {
        ++stats.restored;
      } else {
        ++stats.skipped;
      }
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("malformed alert state file: ") + e.what());
  }
  return stats;
}

}  // namespace vigil::rules
