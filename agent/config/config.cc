#include "agent/config/config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

#include "agent/base/config_node.h"
#include "agent/base/duration.h"
#include "agent/base/file.h"
#include "agent/base/url.h"
#include "agent/notifier/notifier.h"
#include "collectors/registry.h"

namespace vigil {
namespace {

constexpr std::size_t kMaxConfigBytes = 16 << 20;

void ParseGlobal(const ConfigNode& root, Config& config) {
  std::optional<ConfigNode> g = root.Child("global");
  if (!g || g->IsNull()) return;
  GlobalConfig& gc = config.global;
  gc.collect_interval = g->GetDuration("collect_interval", gc.collect_interval);
  gc.collect_timeout = g->GetDuration("collect_timeout", gc.collect_timeout);
  gc.evaluation_interval = g->GetDuration("evaluation_interval", gc.evaluation_interval);
  gc.external_labels = g->LabelMap("external_labels");
  gc.max_window = g->GetDuration("max_window", gc.max_window);
  if (gc.max_window < Duration(5 * 60 * 1000)) g->Error("max_window must be at least 5m");
  gc.max_series = static_cast<std::size_t>(
      g->Int("max_series", static_cast<long long>(gc.max_series), 1000, 100'000'000));
  gc.max_series_per_source = static_cast<std::size_t>(g->Int(
      "max_series_per_source", static_cast<long long>(gc.max_series_per_source), 100, 100'000'000));
  if (gc.collect_interval.count() <= 0) g->Error("collect_interval must be positive");
  if (gc.evaluation_interval.count() <= 0) g->Error("evaluation_interval must be positive");
  g->CheckUnknownKeys();
}

void ParseWeb(const ConfigNode& root, Config& config) {
  std::optional<ConfigNode> w = root.Child("web");
  if (!w || w->IsNull()) return;
  config.web.listen_address = w->String("listen_address", config.web.listen_address);
  if (Result<HostPort> a = ParseHostPort(config.web.listen_address); !a.ok()) {
    w->Child("listen_address")->Error(a.status().message());
  }
  config.web.external_url = w->String("external_url");
  if (UrlHasUserinfo(config.web.external_url)) {  // it is in every alert's generatorURL
    w->Child("external_url")->Error("credentials in the url are not allowed");
  }
  w->CheckUnknownKeys();
}

void ParseCollectors(const ConfigNode& root, Config& config) {
  for (const collectors::CollectorKind& kind : collectors::CollectorKinds()) {
    if (kind.parse == nullptr || !root.Has(kind.name)) {
      for (collectors::CollectorSpec spec : kind.defaults()) {
        if (spec.interval.count() == 0) spec.interval = config.global.collect_interval;
        if (spec.timeout.count() == 0) spec.timeout = config.global.collect_timeout;
        config.collectors.push_back(std::move(spec));
      }
      continue;
    }
    std::set<std::string> names;
    for (const ConfigNode& entry : root.List(kind.name)) {
      if (!entry.IsMap()) {
        entry.Error("want a mapping with at least \"name\"");
        continue;
      }
      collectors::CollectorSpec spec;
      spec.kind = std::string(kind.name);
      spec.target = entry.RequiredString("name");
      if (!spec.target.empty() && !names.insert(spec.target).second) {
        entry.Child("name")->Error("duplicate name \"" + spec.target + "\"");
      }
      spec.interval = entry.GetDuration("interval", config.global.collect_interval);
      spec.timeout =
          entry.GetDuration("timeout", std::min(config.global.collect_timeout, spec.interval));
      if (spec.interval.count() <= 0) entry.Error("interval must be positive");
      if (spec.timeout.count() <= 0) entry.Error("timeout must be positive");
      if (spec.timeout > spec.interval) {
        entry.Child("timeout")->Error("timeout " + FormatDuration(spec.timeout) +
                                      " exceeds interval " + FormatDuration(spec.interval));
      }
      kind.parse(entry, spec);
      entry.CheckUnknownKeys();
      config.collectors.push_back(std::move(spec));
    }
  }
}

}  // namespace

Result<Config> ParseConfig(const std::string& text, const std::string& file) {
  ConfigErrors errors(file);
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark.line, e.mark.column, "malformed YAML: " + e.msg);
    return errors.ToStatus();
  }
  Config config;
  config.file = file;
  if (doc.IsNull()) {
    errors.Add(0, 0, "the file is empty");
    return errors.ToStatus();
  }
  ConfigNode root(doc, "", &errors);
  if (!root.IsMap()) {
    root.Error("want a mapping at the top level");
    return errors.ToStatus();
  }
  try {
    ParseGlobal(root, config);
    ParseWeb(root, config);
    ParseCollectors(root, config);
    std::string dir = std::filesystem::path(file).parent_path().string();
    for (std::string f : root.StringList("rule_files")) {
      if (!f.empty() && f[0] != '/' && !dir.empty()) f = dir + "/" + f;
      config.rule_files.push_back(f);
    }
    if (std::optional<ConfigNode> alerting = root.Child("alerting");
        alerting && !alerting->IsNull()) {
      for (const ConfigNode& url : alerting->List("alertmanagers")) {
        std::string u = url.AsString();
        if (Status s = ValidateAlertmanagerUrl(u); !s.ok()) url.Error(s.message());
        config.alerting.alertmanagers.push_back(u);
      }
      config.alerting.resend_delay = alerting->GetDuration("resend_delay", Duration(60000));
      config.alerting.queue_capacity =
          static_cast<std::size_t>(alerting->Int("queue_capacity", 10000, 1, 10000000));
      alerting->CheckUnknownKeys();
    }
    config.remote_write = remote::ParseRemoteWrite(root);
    if (std::optional<ConfigNode> storage = root.Child("storage"); storage && !storage->IsNull()) {
      std::string path = storage->String("path");
      if (!path.empty() && path[0] != '/' && !dir.empty()) path = dir + "/" + path;
      config.storage.path = path;
      config.storage.outage_tolerance =
          storage->GetDuration("outage_tolerance", config.storage.outage_tolerance);
      storage->CheckUnknownKeys();
    }
    root.CheckUnknownKeys();
  } catch (const YAML::Exception& e) {  // a conversion yaml-cpp refused: report, never crash
    errors.Add(e.mark.line, e.mark.column, e.msg);
  }
  if (!errors.empty()) return errors.ToStatus();
  if (config.web.external_url.empty()) {
    config.web.external_url = "http://" + config.web.listen_address;
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  Result<std::string> text = ReadFileBounded(path, kMaxConfigBytes);
  if (text.status().code() == Status::Code::kNotFound) {
    return Status::NotFound(path + ": cannot open config file");
  }
  if (!text.ok()) return text.status().WithContext(path + ": config file");
  return ParseConfig(*text, path);
}

}  // namespace vigil
