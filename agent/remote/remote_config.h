// The `remote_write:` section of vigil.yml: where and how to send everything vigil collects
// and its recording-rule results (Prometheus remote write 1.0). Plain values; copy freely.
// Secrets (password, bearer token) are read from their files at load time and never logged.
#pragma once

#include <string>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/status.h"
#include "agent/remote/relabel.h"

namespace vigil {
class ConfigNode;
}

namespace vigil::remote {

struct QueueConfig {
  // Samples held in memory for this endpoint, all shards together; beyond it new samples are
  // dropped and counted.
  std::size_t capacity = 50000;
  std::size_t max_samples_per_send = 2000;
  Duration batch_send_deadline{5000};
  int min_shards = 1;
  int max_shards = 4;
  Duration min_backoff{30};
  Duration max_backoff{5000};
  bool operator==(const QueueConfig&) const = default;
};

struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure_skip_verify = false;
  bool operator==(const TlsConfig&) const = default;
};

struct RemoteWriteConfig {
  std::string url;   // http(s)://host[:port]/path, no credentials in it
  std::string name;  // remote_name label; defaults to host:port/path
  Duration timeout{30000};
  std::string basic_auth_username;
  std::string basic_auth_password;  // secret
  std::string bearer_token;         // secret
  TlsConfig tls;
  std::vector<RelabelRule> write_relabel_configs;
  QueueConfig queue;
  // Compares everything, secrets included (a changed password restarts the queue).
  bool operator==(const RemoteWriteConfig& o) const;
};

// Parses one entry of the list; errors go to the node's ConfigErrors.
RemoteWriteConfig ParseRemoteWriteEntry(const ConfigNode& entry);
// Parses `remote_write:` of the root mapping (absent: empty); names must be unique.
std::vector<RemoteWriteConfig> ParseRemoteWrite(const ConfigNode& root);

struct ParsedUrl {
  std::string scheme;  // http or https
  std::string host;
  int port = 0;
  std::string path;  // "/..." (at least "/")
};
Result<ParsedUrl> ParseRemoteUrl(const std::string& url);

}  // namespace vigil::remote
