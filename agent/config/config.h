// The validated, typed vigil configuration (vigil.yml).
//
// LoadConfigFile() is the one edge where YAML becomes a Config: every duration, address,
// regex and label is checked there, unknown keys are errors, and all errors come back in one
// Status whose message has a line per problem, each `file:line:column: key.path: problem`.
// Inner code trusts a Config. Plain value; copy freely.
#pragma once

#include <string>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/labels.h"
#include "agent/base/status.h"
#include "agent/remote/remote_config.h"
#include "collectors/collector.h"

namespace vigil {

struct GlobalConfig {
  Duration collect_interval{15000};
  Duration collect_timeout{10000};
  Duration evaluation_interval{15000};
  Labels external_labels;
  Duration max_window{3600000};  // cap of the series window's length
  // Caps of the window's cardinality (agent/window/series_window.h: WindowLimits).
  std::size_t max_series = 100'000;
  std::size_t max_series_per_source = 20'000;
};

struct WebConfig {
  std::string listen_address = "127.0.0.1:9633";
  std::string external_url;  // how users reach vigil (alert links); default http://listen_address
};

struct AlertingConfig {
  std::vector<std::string> alertmanagers;  // base URLs
  Duration resend_delay{60000};
  // Alerts waiting per Alertmanager while it is unreachable; beyond it the oldest are dropped.
  std::size_t queue_capacity = 10000;
};

struct StorageConfig {
  // Directory for the agent's state (alert-state.json: pending and firing alerts, restored at
  // start). Empty: nothing is kept across restarts. Relative paths are resolved against the
  // config file's directory.
  std::string path;
  // A state file older than this at start is ignored (Prometheus'
  // --rules.alert.for-outage-tolerance).
  Duration outage_tolerance{3600000};
};

struct Config {
  std::string file;
  GlobalConfig global;
  WebConfig web;
  // Every collector instance, defaults included, with interval and timeout resolved.
  std::vector<collectors::CollectorSpec> collectors;
  std::vector<std::string> rule_files;  // globs, relative ones resolved against the file's dir
  AlertingConfig alerting;
  std::vector<remote::RemoteWriteConfig> remote_write;
  StorageConfig storage;
};

Result<Config> LoadConfigFile(const std::string& path);
// `file` names the source in error messages.
Result<Config> ParseConfig(const std::string& text, const std::string& file);

}  // namespace vigil
